"""Dashboard sessions: a portal or admin key, typed once into the login form, becomes a server-side
session named by a random cookie (HttpOnly, SameSite=Strict). Only the cookie's SHA-256 is stored, in
the gateway's own database; each use re-checks that the key behind it still exists, unrevoked and unexpired.
"""
import secrets
from datetime import timedelta

from flask import request
from pymongo import ASCENDING, IndexModel

from shared.domain import utcnow
from shared.keys import ENV_ADMIN, key_hash, usable

COOKIE = "manyi_session"
LIFETIME = timedelta(hours=8)


class Sessions:
    def __init__(self, collection, keys, admin_key):
        self.collection, self.keys, self.admin_key = collection, keys, admin_key

    def ensure_indexes(self):
        # Expired sessions are refused on read; the TTL index only tidies them away.
        self.collection.create_indexes([IndexModel([("expires_at", ASCENDING)], expireAfterSeconds=0)])

    def open(self, record):
        """A new session for a resolved key record; returns the cookie value."""
        token = secrets.token_urlsafe(32)
        self.collection.insert_one({"_id": key_hash(token), "key_id": record["_id"], "role": record["role"],
                                    "expires_at": utcnow() + LIFETIME})
        return token

    def close(self, token):
        self.collection.delete_one({"_id": key_hash(token)})

    def lookup(self, token):
        """The key record behind a cookie value, or None (unknown, expired, or its key gone)."""
        session = self.collection.find_one({"_id": key_hash(token)})
        if session is None or session["expires_at"] <= utcnow():
            return None
        if session["key_id"] == ENV_ADMIN["_id"]:
            return ENV_ADMIN if self.admin_key else None
        record = self.keys.find_one({"_id": session["key_id"]}, {"hash": 0})
        return record if usable(record) else None  # a revoked or expired key's sessions end with it

    def current(self):
        """The key record of this request's session cookie, or None."""
        token = request.cookies.get(COOKIE)
        return self.lookup(token) if token else None
