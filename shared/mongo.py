"""MongoDB access: one client per process, journaled writes (DESIGN §8: durability needs j)."""
import threading

from pymongo import MongoClient
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


def run_transaction(mongo_client, work):
    """Run `work(session)` in a journaled transaction, retrying transient conflicts."""
    with mongo_client.start_session() as session:
        return session.with_transaction(work, read_concern=ReadConcern("snapshot"),
                                        write_concern=JOURNALED)


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
