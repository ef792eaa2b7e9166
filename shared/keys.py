"""API keys as both web processes check them: bearer key → record → role (401/403).

Keys are random 256-bit secrets stored as SHA-256 digests by the survey service (`manyi_survey.keys`);
the gateway reads that collection to check keys, and nothing else of the survey database.
"""
import functools
import hashlib
import hmac
import secrets
import time

from flask import current_app, g, request

from shared.errors import Forbidden, Unauthorized, pair

CACHE_SECONDS = 10
# The ledger names whoever acted by their key's name; the key from the environment acts as the office itself.
ENV_ADMIN = {"_id": "env-admin", "role": "admin", "name": "营商办管理员", "department": None}


def new_key():
    return "mk_" + secrets.token_urlsafe(32)


def key_hash(key):
    return hashlib.sha256(key.encode()).hexdigest()


class KeyRing:
    """Resolves a presented key to its record, with a short per-process cache."""

    def __init__(self, collection, admin_key, session_record=None):
        self.collection, self.admin_key = collection, admin_key
        self.session_record = session_record  # the gateway's dashboard sessions: () → key record or None
        self._cache = {}

    def resolve(self, presented):
        if self.admin_key and hmac.compare_digest(presented.encode(), self.admin_key.encode()):
            return ENV_ADMIN
        return self.resolve_digest(key_hash(presented))

    def resolve_digest(self, digest):
        """The record of the key whose SHA-256 is `digest`, or None: how a console session, which keeps the
        digest and never the key, re-checks its key on every request (a revoked key ends the session)."""
        if self.admin_key and hmac.compare_digest(digest, key_hash(self.admin_key)):
            return ENV_ADMIN
        hit = self._cache.get(digest)
        if hit and hit[0] > time.monotonic():
            return hit[1]
        record = self.collection.find_one({"hash": digest}, {"hash": 0})
        self._cache[digest] = (time.monotonic() + CACHE_SECONDS, record)
        return record


def presented_key():
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def require(*roles):
    """Decorator: 401 without a valid key, 403 for a key of another role; the record lands in g.api_key."""
    def wrap(view):
        @functools.wraps(view)
        def inner(*args, **kwargs):
            key = presented_key()
            keyring = current_app.extensions["manyi"].keyring
            record = keyring.resolve(key) if key else None
            if key is None and keyring.session_record and request.method in ("GET", "HEAD"):
                record = keyring.session_record()  # read-only requests only: a cookie never authorizes a write
            if record is None:
                raise Unauthorized("a valid API key is required (Authorization: Bearer <key>)",
                                   {"authorization": pair("需要有效的密钥", "a valid API key is required")})
            if record["role"] not in roles:
                raise Forbidden(f"this needs a key of role {' or '.join(roles)}",
                                {"authorization": pair("密钥角色无权访问", f"needs role {' or '.join(roles)}")})
            g.api_key = record
            return view(*args, **kwargs)
        return inner
    return wrap
