"""Limits per client that hold across every process and host: counted in MongoDB, which all share.

Why the database and not the proxy or each process: per-process counters let 450 of 600 requests through a
120/min limit (four workers, four counters); a proxy's counter is per proxy host, so two proxies double
it. Every web process already talks to MongoDB, so one count there is the count. The hot path is an
insert and an indexed count capped at limit + 1 (no update_one, which is slow here), unacknowledged by
the journal: a lost hit after a crash costs nothing. Once a client is over the limit in a window, the
process remembers it, so a flood from one address costs the database nothing more until the window ends.
If the database is unreachable the limit fails open: readiness already reports that outage.
"""
import logging
import threading
import time
from collections import OrderedDict
from datetime import UTC, datetime

from pymongo import ASCENDING, IndexModel, WriteConcern
from pymongo.errors import PyMongoError

log = logging.getLogger(__name__)
WINDOW_SECONDS = 60
BLOCKED_MEMORY = 10_000  # clients remembered as over their limit, per process
# A client found within its limit is not counted again for this long by this process: every authenticated
# request asks (`over`), and that count was half of a warm gateway read. Failures in another process reach
# this one within the time; failures in this one at once.
CLEAR_SECONDS = 1.0


class SharedLimiter:
    """Fixed one-minute windows per (bucket, client), counted in `collection` by every process."""

    def __init__(self, collection, per_minute, bucket):
        self.collection = collection.with_options(write_concern=WriteConcern(w=1, j=False))
        self.per_minute, self.bucket = per_minute, bucket
        self._blocked, self._lock = OrderedDict(), threading.Lock()
        self._clear = OrderedDict()  # (client, window) → until when (monotonic) it is known to be within its limit
        self._indexed = False

    def _ensure_indexes(self):
        if not self._indexed:
            self.collection.create_indexes([IndexModel([("b", ASCENDING), ("c", ASCENDING), ("w", ASCENDING)]),
                                            IndexModel([("at", ASCENDING)], expireAfterSeconds=2 * WINDOW_SECONDS)])
            self._indexed = True

    def _over(self, key):
        with self._lock:
            return key in self._blocked

    def _block(self, key):
        with self._lock:
            self._blocked[key] = True
            while len(self._blocked) > BLOCKED_MEMORY:
                self._blocked.popitem(last=False)

    def count(self, client, window):
        return self.collection.count_documents({"b": self.bucket, "c": client, "w": window},
                                               limit=self.per_minute + 1)

    def hit(self, client):
        """Count one request of `client`; True while it is within the limit."""
        if self.per_minute <= 0:
            return True
        window = int(time.time() // WINDOW_SECONDS)
        key = (client, window)
        if self._over(key):
            return False
        with self._lock:
            self._clear.pop(key, None)
        try:
            self._ensure_indexes()
            self.collection.insert_one({"b": self.bucket, "c": client, "w": window, "at": datetime.now(UTC)})
            allowed = self.count(client, window) <= self.per_minute
        except PyMongoError as exc:
            log.warning("rate limit unavailable (allowing): %r", exc)
            return True
        if not allowed:
            self._block(key)
        return allowed

    allow = hit

    def over(self, client):
        """Whether `client` is over the limit in this window, without counting a request."""
        if self.per_minute <= 0:
            return False
        window = int(time.time() // WINDOW_SECONDS)
        key = (client, window)
        if self._over(key):
            return True
        now = time.monotonic()
        with self._lock:
            if self._clear.get(key, 0) > now:
                return False
        try:
            self._ensure_indexes()
            over = self.count(client, window) >= self.per_minute
        except PyMongoError:
            return False
        if not over:
            with self._lock:
                self._clear[key] = now + CLEAR_SECONDS
                self._clear.move_to_end(key)
                while len(self._clear) > BLOCKED_MEMORY:
                    self._clear.popitem(last=False)
        return over
