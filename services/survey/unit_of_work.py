"""One unit of work: a change and the events it raises, stored together in one journaled write, then
handed to the publisher (cosmicpython's unit_of_work.py, DESIGN §8).

Stores stage their writes here (`add` a record, `update` one document); `commit` writes them all and
nothing before. A single insert is written as one journaled insert, the answer path's fast case
(DESIGN §8: an insert is cheap, a transaction is not); anything more is one journaled transaction,
so that a change never exists without its events, nor events without their change. After the commit
the messages of the records that carry one (outbox.event_record) go to the publisher; whatever it
cannot confirm, the relay publishes later.
"""
from pymongo.errors import DuplicateKeyError

from services.survey.outbox import event_record
from shared import mongo
from shared.errors import AlreadyExists, Conflict, pair


class StaleUpdate(Conflict):
    """A conditional update matched no document: someone changed it since it was read."""


class UnitOfWork:
    def __init__(self, db, publish, transaction=mongo.run_transaction):
        """`db`: the service's database (collections by name, `client`); `publish(collection, id, routing key,
        message)`: the outbox's hand-over; `transaction(client, work)`: runs `work(session)` atomically."""
        self.db, self.publish, self.transaction = db, publish, transaction
        self.inserts, self.updates = [], []
        self.committed = False

    def add(self, collection, record):
        """Insert `record` into `collection` at commit; its unique `_id` makes a second one AlreadyExists."""
        self.inserts.append((collection, record))
        return record

    def event(self, routing_key, message):
        """Raise an event: an entry of the generic outbox, published after commit."""
        return self.add("outbox", event_record(routing_key, message))

    def update(self, collection, query, change):
        """Apply `change` to the one document `query` matches at commit; StaleUpdate when none does."""
        self.updates.append((collection, query, change))

    def commit(self):
        """Write everything staged (AlreadyExists when an insert's id is taken: then nothing is written)."""
        if self.committed:
            raise RuntimeError("a unit of work commits once")
        try:
            if len(self.inserts) == 1 and not self.updates:
                collection, record = self.inserts[0]
                self.write(collection, [record], None)
            elif self.inserts or self.updates:
                self.transaction(self.db.client, self.write_all)
        except DuplicateKeyError as exc:
            raise AlreadyExists("a record with this id exists", {"id": pair("记录已存在", "already exists")}) from exc
        self.committed = True
        for collection, record in self.inserts:
            if "message" in record:
                self.publish(collection, record["_id"], record["routing_key"], record["message"])

    def write_all(self, session):
        # Updates first: a stale one stops the unit before its events (whose ids follow the version) collide.
        for collection, query, change in self.updates:
            if self.db[collection].update_one(query, change, session=session).matched_count != 1:
                raise StaleUpdate(f"the {collection} record changed meanwhile; try again",
                                  {"version": pair("记录已被他人修改，请重试", "changed meanwhile; try again")})
        for collection, records in self.grouped():
            self.write(collection, records, session)

    def grouped(self):
        """The staged inserts as (collection, records) runs, in the order they were added."""
        runs = []
        for collection, record in self.inserts:
            if runs and runs[-1][0] == collection:
                runs[-1][1].append(record)
            else:
                runs.append((collection, [record]))
        return runs

    def write(self, collection, records, session):
        if len(records) == 1 and session is None:
            mongo.insert_one(self.db[collection], records[0])  # not stalled by a dead process's transaction
        elif len(records) == 1:
            self.db[collection].insert_one(records[0], session=session)
        else:
            self.db[collection].insert_many(records, session=session)
