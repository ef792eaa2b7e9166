"""API keys as both web processes check them: bearer key → record → role (401/403).

Keys are random 256-bit secrets stored as SHA-256 digests by the survey service (`manyi_survey.keys`);
the gateway reads that collection to check keys, and nothing else of the survey database.

A key may expire (`expires_at`) or be revoked (`revoked_at`). Each process caches a resolved key for
CACHE_SECONDS, so a revocation reaches every process within that time; the cache is bounded and never
remembers a miss (each distinct wrong key used to stay in memory for ever). Wrong keys are counted per
client across processes; past MANYI_AUTH_FAILURES a minute, that client gets 429 before any lookup.
"""
import functools
import hashlib
import hmac
import secrets
import threading
import time
from collections import OrderedDict
from datetime import timedelta

from flask import current_app, g, request

from shared.domain import utcnow
from shared.errors import Forbidden, TooManyRequests, Unauthorized, pair

CACHE_SECONDS = 4  # revocation takes effect in every process within 5 s (DESIGN §9)
CACHE_SIZE = 10_000
LAST_USED_EVERY = timedelta(minutes=1)  # last_used_at is a hint; one write per key per minute at most
# The ledger names whoever acted by their key's name; the key from the environment acts as the office itself.
ENV_ADMIN = {"_id": "env-admin", "role": "admin", "name": "营商办管理员", "department": None}


def new_key():
    return "mk_" + secrets.token_urlsafe(32)


def key_hash(key):
    return hashlib.sha256(key.encode()).hexdigest()


def usable(record, now=None):
    """A stored key record that still opens the door: neither revoked nor expired."""
    if record is None or record.get("revoked_at"):
        return False
    expires_at = record.get("expires_at")
    return expires_at is None or expires_at > (now or utcnow())


class KeyRing:
    """Resolves a presented key to its record, with a short, bounded per-process cache of valid keys."""

    def __init__(self, collection, admin_key, session_record=None, failures=None, note_use=True):
        self.collection, self.admin_key, self.note_use = collection, admin_key, note_use
        self.session_record = session_record  # the gateway's dashboard sessions: () → key record or None
        self.failures = failures  # shared.limits.SharedLimiter of wrong keys per client, or None
        self._cache, self._lock = OrderedDict(), threading.Lock()

    def _cached(self, digest):
        with self._lock:
            hit = self._cache.get(digest)
            if hit and hit[0] > time.monotonic():
                self._cache.move_to_end(digest)
                return hit[1]
            return None

    def _remember(self, digest, record):
        with self._lock:
            self._cache[digest] = (time.monotonic() + CACHE_SECONDS, record)
            self._cache.move_to_end(digest)
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)

    def resolve(self, presented):
        if self.admin_key and hmac.compare_digest(presented.encode(), self.admin_key.encode()):
            return ENV_ADMIN
        return self.resolve_digest(key_hash(presented))

    def resolve_digest(self, digest):
        """The record of the key whose SHA-256 is `digest`, or None: how a console session, which keeps the
        digest and never the key, re-checks its key on every request (a revoked key ends the session)."""
        if self.admin_key and hmac.compare_digest(digest, key_hash(self.admin_key)):
            return ENV_ADMIN
        record = self._cached(digest)
        if record is not None and usable(record):
            return record
        record = self.collection.find_one({"hash": digest}, {"hash": 0})
        now = utcnow()
        if not usable(record, now):
            return None  # never cached: a wrong key costs a lookup, and the failure counter limits those
        self._remember(digest, record)
        last_used = record.get("last_used_at")
        if self.note_use and (last_used is None or now - last_used > LAST_USED_EVERY):
            self._note_use(record["_id"], now)
        return record

    def _note_use(self, key_id, now):
        try:
            self.collection.update_one({"_id": key_id}, {"$set": {"last_used_at": now}})
        except Exception:  # a hint that cannot be written is no reason to refuse the request
            pass


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
            client = request.remote_addr or "-"
            if key and keyring.failures and keyring.failures.over(client):
                raise TooManyRequests("too many wrong keys from this address; try again in a minute",
                                      {"authorization": pair("密钥错误次数过多，请一分钟后再试", "too many wrong keys")})
            record = keyring.resolve(key) if key else None
            if key and record is None and keyring.failures:
                keyring.failures.hit(client)
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
