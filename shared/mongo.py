"""MongoDB access: one client per process, journaled writes (DESIGN §8: durability needs j)."""
import logging
import os
import random
import socket
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

import pymongo
from bson.binary import Binary
from pymongo import MongoClient
from pymongo.errors import ConnectionFailure, ExecutionTimeout, OperationFailure, PyMongoError, WTimeoutError
from pymongo.read_concern import ReadConcern
from pymongo.write_concern import WriteConcern

log = logging.getLogger(__name__)
_clients = {}
_lock = threading.Lock()

JOURNALED = WriteConcern(w=1, j=True)
# $in grows quadratically on the embedded server (4,000 ids: 9 s; 250: 0.03 s), so long lists go in chunks;
# on MongoDB chunks cost nothing much either.
IN_CHUNK = 250


def client(url):
    """The process's client for `url`, created lazily (after a gunicorn fork, never before)."""
    with _lock:
        if url not in _clients:
            _clients[url] = MongoClient(url, journal=True, serverSelectionTimeoutMS=3000,
                                        connectTimeoutMS=3000, tz_aware=True, uuidRepresentation="standard")
        return _clients[url]


def reset_clients():
    with _lock:
        for c in _clients.values():
            c.close()
        _clients.clear()


# A transaction gives up after this long (retries of write conflicts included) and raises; its caller decides
# when to try again. pymongo's with_transaction retries for 120 s, which is how a transaction left open by a
# process killed with -9 stalled scoring for a minute: every retry met the dead one's locks. On MongoDB set
# transactionLifetimeLimitSeconds below this bound (deploy/README.md) so the server aborts the orphan first.
TRANSACTION_SECONDS = 8


def is_transient(exc):
    """True when `exc` is the database's passing state (away, busy, a conflict), not the fault of the data."""
    if isinstance(exc, (ConnectionFailure, ExecutionTimeout, WTimeoutError)):
        return True
    if isinstance(exc, PyMongoError) and (exc.has_error_label("TransientTransactionError")
                                          or exc.has_error_label("UnknownTransactionCommitResult")):
        return True
    if isinstance(exc, PyMongoError) and getattr(exc, "timeout", False):
        return True
    return isinstance(exc, OperationFailure) and exc.code in (112, 24, 50, 91, 189, 11600, 11602, 10107, 13435)


WRITE_CONFLICT = 112
HEARTBEAT_SECONDS = 2
REAP_AFTER_CONFLICT_SECONDS = 1  # a conflict that lasts this long may be a dead process's open transaction


class SessionHolders:
    """Who holds which server sessions, so that a survivor can end the transactions of a process that died.

    A process killed with -9 inside a transaction leaves it open, holding its locks, until the server's
    transaction lifetime runs out (60 s on MongoDB and on the embedded server): every writer of the same
    documents meets a write conflict until then. Each process therefore announces, in `transaction_holders`
    of its own database, the session ids it runs transactions in and a heartbeat every 2 s. A transaction
    that keeps conflicting ends the sessions (killSessions, standard MongoDB) of holders that are certainly
    gone: same host and the pid no longer alive, or no heartbeat for three periods.
    """

    def __init__(self, collection):
        self.collection = collection
        self.host, self.pid = socket.gethostname(), os.getpid()
        self.id = f"{self.host}:{self.pid}:{random.getrandbits(32):08x}"
        self.lsids, self._lock = [], threading.Lock()
        self._last_reap = 0.0
        threading.Thread(target=self._beat, name="session-heartbeat", daemon=True).start()

    def note(self, lsid):
        with self._lock:
            if lsid in self.lsids:
                return
            self.lsids = ([*self.lsids, lsid])[-256:]
        self._write()

    def _write(self):
        try:
            self.collection.replace_one({"_id": self.id}, {"host": self.host, "pid": self.pid, "lsids": self.lsids,
                                                           "seen": datetime.now(UTC)}, upsert=True)
        except PyMongoError:
            pass  # the database away: the next beat writes again

    def _beat(self):
        while True:
            time.sleep(HEARTBEAT_SECONDS)
            if self.lsids:
                self._write()

    def reap(self, client):
        """End the sessions of holders that are gone; returns how many holders were reaped."""
        if time.monotonic() - self._last_reap < HEARTBEAT_SECONDS / 2:
            return 0
        self._last_reap = time.monotonic()
        stale = datetime.now(UTC) - timedelta(seconds=3 * HEARTBEAT_SECONDS)
        reaped = 0
        for holder in self.collection.find({"_id": {"$ne": self.id}}):
            gone = holder["seen"].replace(tzinfo=UTC) < stale
            if holder["host"] == self.host and not _alive(holder["pid"]):
                gone = True
            if not gone:
                continue
            if holder.get("lsids"):
                client.admin.command("killSessions", [{"id": _binary(lsid["id"])} for lsid in holder["lsids"]])
            self.collection.delete_one({"_id": holder["_id"]})
            reaped += 1
            log.warning("ended the open transactions of %s (pid %s on %s), gone since %s", holder["_id"],
                        holder["pid"], holder["host"], holder["seen"])
        return reaped


def _binary(value):
    return Binary.from_uuid(value) if isinstance(value, uuid.UUID) else value


def _alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


_holders = {}


def announce_sessions(database):
    """Take part in SessionHolders for transactions on `database`'s client (once per process and client)."""
    if not isinstance(database.client, MongoClient):  # a test's fake database
        return None
    with _lock:
        if id(database.client) not in _holders:
            _holders[id(database.client)] = SessionHolders(database.transaction_holders)
        return _holders[id(database.client)]


def run_transaction(mongo_client, work, seconds=TRANSACTION_SECONDS):
    """Run `work(session)` in a journaled transaction, retrying transient conflicts for at most `seconds`.

    Every operation inside runs under a client-side deadline (pymongo.timeout, which also sends maxTimeMS),
    so neither a lock held by a dead process nor a silent server blocks the caller past the bound.
    """
    started = time.monotonic()
    deadline = started + seconds
    pause = 0.01
    holders = _holders.get(id(mongo_client))
    with mongo_client.start_session() as session:
        if holders is not None:
            holders.note(session.session_id)
        while True:
            remaining = deadline - time.monotonic()
            try:
                with pymongo.timeout(max(remaining, 0.5)):
                    return _attempt(session, work)
            except PyMongoError as exc:
                if not is_transient(exc) or time.monotonic() + pause >= deadline:
                    raise
                if holders is not None and getattr(exc, "code", None) == WRITE_CONFLICT \
                        and time.monotonic() - started >= REAP_AFTER_CONFLICT_SECONDS:
                    try:
                        holders.reap(mongo_client)
                    except PyMongoError as reap_error:
                        log.warning("could not end orphaned transactions: %r", reap_error)
            time.sleep(pause * (1 + random.random()))  # competing workers: do not retry in lock-step
            pause = min(pause * 2, 0.5)


def insert_one(collection, record, seconds=TRANSACTION_SECONDS):
    """One journaled insert outside a transaction (the answer path's fast case), which a dead process's open
    transaction cannot stall: a write on an id that transaction holds waits for its lock, and run_transaction's
    reaping never sees it. So the insert waits REAP_AFTER_CONFLICT_SECONDS at a time; after each wait the
    sessions of holders that are gone are ended (SessionHolders.reap) and it tries again, within `seconds`.

    An insert that timed out client-side may still have happened: the retry then meets its own record and raises
    DuplicateKeyError, which callers already treat as "this id exists" (a resend)."""
    holders = _holders.get(id(collection.database.client))
    if holders is None:
        with pymongo.timeout(seconds):
            return collection.insert_one(record)
    deadline = time.monotonic() + seconds
    while True:
        try:
            with pymongo.timeout(min(REAP_AFTER_CONFLICT_SECONDS * 2, max(deadline - time.monotonic(), 0.5))):
                return collection.insert_one(record)
        except PyMongoError as exc:
            waited = getattr(exc, "timeout", False) or getattr(exc, "code", None) == WRITE_CONFLICT
            if not waited or time.monotonic() >= deadline:
                raise
            try:
                holders.reap(collection.database.client)
            except PyMongoError as reap_error:
                log.warning("could not end orphaned transactions: %r", reap_error)


def _attempt(session, work):
    session.start_transaction(read_concern=ReadConcern("snapshot"), write_concern=JOURNALED)
    try:
        result = work(session)
    except BaseException:
        if session.in_transaction:
            try:
                session.abort_transaction()
            except PyMongoError:
                pass  # the server drops it anyway
        raise
    for _ in range(3):  # an unknown commit result is retried as the specification says (commit is idempotent)
        try:
            session.commit_transaction()
            return result
        except PyMongoError as exc:
            if not exc.has_error_label("UnknownTransactionCommitResult"):
                raise
    session.commit_transaction()
    return result


def chunks(values, size=IN_CHUNK):
    values = list(values)
    for start in range(0, len(values), size):
        yield values[start:start + size]


def find_in(collection, field, values, projection=None, session=None, **conditions):
    """Documents whose `field` is one of `values` (and that meet `conditions`), asked for in chunks."""
    for part in chunks(values):
        yield from collection.find({**conditions, field: {"$in": part}}, projection, session=session)


def update_in(collection, ids, update, session=None):
    """update_many on the documents with these `_id`s, in chunks."""
    for part in chunks(ids):
        collection.update_many({"_id": {"$in": part}}, update, session=session)


PING_SECONDS = 1  # a readiness probe answers within its prober's timeout, whatever the database does


def ping(mongo_client):
    with pymongo.timeout(PING_SECONDS):
        mongo_client.admin.command("ping")
