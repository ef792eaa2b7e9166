"""MongoDB access: one client per process, journaled writes (DESIGN §8: durability needs j)."""
import random
import threading
import time

import pymongo
from pymongo import MongoClient
from pymongo.errors import ConnectionFailure, ExecutionTimeout, OperationFailure, PyMongoError, WTimeoutError
from pymongo.read_concern import ReadConcern
from pymongo.write_concern import WriteConcern

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


def run_transaction(mongo_client, work, seconds=TRANSACTION_SECONDS):
    """Run `work(session)` in a journaled transaction, retrying transient conflicts for at most `seconds`.

    Every operation inside runs under a client-side deadline (pymongo.timeout, which also sends maxTimeMS),
    so neither a lock held by a dead process nor a silent server blocks the caller past the bound.
    """
    deadline = time.monotonic() + seconds
    pause = 0.01
    with mongo_client.start_session() as session:
        while True:
            remaining = deadline - time.monotonic()
            try:
                with pymongo.timeout(max(remaining, 0.5)):
                    return _attempt(session, work)
            except PyMongoError as exc:
                if not is_transient(exc) or time.monotonic() + pause >= deadline:
                    raise
            time.sleep(pause * (1 + random.random()))  # competing workers: do not retry in lock-step
            pause = min(pause * 2, 0.5)


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


def ping(mongo_client):
    mongo_client.admin.command("ping")
