"""Console sessions: a key, typed once into the sign-in form, becomes a server-side session named by a
random cookie (HttpOnly, SameSite=Strict), as the dashboard's do (gateway/sessions.py).

Stored in the survey database: the cookie's SHA-256, the SHA-256 of the key behind it (never the key),
and the session's CSRF token. Every request resolves that key again through shared.keys, so a key that
no longer authenticates (deleted, revoked, or a changed MANYI_ADMIN_KEY) ends its sessions at once.
"""
import hmac
import secrets
from datetime import timedelta

from pymongo import ASCENDING, IndexModel
from pymongo.errors import PyMongoError

from shared.domain import utcnow
from shared.keys import key_hash

DATABASE_DOWN = PyMongoError  # what the console's pages answer with 503 (web.py), the database being down
COOKIE = "manyi_console"  # not the dashboard's name: cookies do not tell ports apart on one host
LIFETIME = timedelta(hours=8)


class ConsoleSessions:
    def __init__(self, collection, keyring):
        self.collection, self.keyring = collection, keyring
        self.indexed = False

    def ensure_indexes(self):
        # Expired sessions are refused on read; the TTL index only tidies them away.
        if not self.indexed:
            self.collection.create_indexes([IndexModel([("expires_at", ASCENDING)], expireAfterSeconds=0)])
            self.indexed = True

    def open(self, key):
        """A new session for a key that resolved; returns the cookie value."""
        self.ensure_indexes()
        token = secrets.token_urlsafe(32)
        self.collection.insert_one({"_id": key_hash(token), "key": key_hash(key), "csrf": secrets.token_urlsafe(24),
                                    "created_at": utcnow(), "expires_at": utcnow() + LIFETIME})
        return token

    def close(self, token):
        self.collection.delete_one({"_id": key_hash(token)})

    def lookup(self, token):
        """(session, key record) behind a cookie value, or (None, None): unknown, expired, or its key gone."""
        if not token:
            return None, None
        session = self.collection.find_one({"_id": key_hash(token)})
        if session is None or session["expires_at"] <= utcnow():
            return None, None
        record = self.keyring.resolve_digest(session["key"])
        return (session, record) if record is not None else (None, None)


def csrf_matches(session, presented):
    return bool(presented) and hmac.compare_digest(session["csrf"].encode(), presented.encode())
