"""MongoDB access: one client per process, journaled writes (DESIGN §8: durability needs j)."""
import threading

from pymongo import MongoClient
from pymongo.read_concern import ReadConcern
from pymongo.write_concern import WriteConcern

_clients = {}
_lock = threading.Lock()

JOURNALED = WriteConcern(w=1, j=True)


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


def ping(mongo_client):
    mongo_client.admin.command("ping")
