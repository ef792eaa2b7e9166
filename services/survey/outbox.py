"""Accepted means durable: store the record with its message (journaled), then publish it.

Every record that carries an event (a response, a visit, a new demand, an entry of the generic outbox)
holds `message`, `routing_key`, `published` and `created_at` (`event_record` builds them all). A unit of
work (unit_of_work.py) stores such records; once they are stored the request is done: the unit of work
hands their messages to this process's dispatcher thread, which publishes with confirms while the request answers (the
broker's round trip was a quarter of an answer's time). Whatever was not confirmed (broker down,
backlog full, process killed) is published later by the relay, which runs in one process at a time
under a lease. Marking records published is batched (one update_many per collection and
tick), because single updates are slow on the embedded server (DESIGN §8); a record published but
not yet marked when a process dies is published again, which the idempotent consumer absorbs.
"""
import atexit
import logging
import queue
import threading
import time
import uuid
from datetime import timedelta

from prometheus_client.core import GaugeMetricFamily
from pymongo.errors import BulkWriteError, DuplicateKeyError, PyMongoError

from shared import amqp, messages, mongo, observe
from shared.domain import utcnow

log = logging.getLogger(__name__)

RELAY_GRACE = timedelta(seconds=10)  # leave fresh records to the request that is publishing them
RELAY_BATCH = 500
BREAKER_SECONDS = 5  # after a failed publish, requests stop trying for this long (the relay catches up)
LEASE_SECONDS = 10
DISPATCH_BACKLOG = 10_000  # messages waiting for the dispatcher; past that, the relay takes them
TICK_SECONDS = 0.5


def headers_of(request_id):
    return {amqp.REQUEST_ID_HEADER: request_id} if request_id else None


def event_record(routing_key, message, record=None, at=None):
    """A record that carries an event: `record` (by default an entry of the generic outbox, its id the
    message's) with the message, its routing key, `published` false and `created_at` (the relay's order)."""
    record = record if record is not None else {"_id": message["id"]}
    # The request id rides along, so the message carries it even when the relay publishes it later.
    return {**record, "routing_key": routing_key, "message": message, "published": False,
            "created_at": record.get("created_at") or at or utcnow(), "request_id": observe.request_id()}


class Outbox:
    def __init__(self, store, config, collections):
        """`collections`: the collections whose records carry events (the stores say which)."""
        self.store, self.config = store, config
        self.collections = tuple(collections)
        self.holder = f"{config.worker_id}-{uuid.uuid4().hex[:6]}"
        self._local = threading.local()
        self._publishers = []  # every thread's publisher, to close them on stop
        self._marks, self._marks_lock = [], threading.Lock()
        self._breaker_until = 0.0
        self._pending = queue.Queue(maxsize=DISPATCH_BACKLOG)
        self._stop = threading.Event()
        self._thread = None
        self.grace = RELAY_GRACE

    # --- publishing from a request --------------------------------------------------------------
    def publisher(self):
        if getattr(self._local, "publisher", None) is None:
            self._local.publisher = amqp.Publisher(self.config.amqp_url)
            self._publishers.append(self._local.publisher)
        return self._local.publisher

    def publish_now(self, collection, record_id, routing_key, message):
        """Publish a stored record's message soon; False leaves it to the relay.

        With the background thread running, the message goes to the dispatcher and the request does not
        wait for the broker; without it (an app built with background=False), it is published here.
        """
        if time.monotonic() < self._breaker_until:
            return False
        item = (collection, record_id, routing_key, message, headers_of(observe.request_id()))
        if self._thread is None:
            return self._publish([item])
        try:
            self._pending.put_nowait((time.monotonic(), item))
            return True
        except queue.Full:
            return False

    def _publish(self, items):
        """Publish [(collection, record id, routing key, message, headers)] with confirms; mark them on success."""
        if self.publisher().publish([(rk, m, h) for _, _, rk, m, h in items], messages.encode):
            with self._marks_lock:
                self._marks.extend((collection, record_id) for collection, record_id, *_ in items)
            observe.PUBLISHED.labels("request").inc(len(items))
            return True
        self._breaker_until = time.monotonic() + BREAKER_SECONDS
        log.warning("broker unavailable: %d messages left to the relay", len(items))
        return False

    def dispatch(self, timeout):
        """Publish what requests handed over (up to a batch); returns how many were taken.

        What waited longer than half the relay's grace, or arrives while the broker is known to be away,
        is left to the relay, so that the two never publish the same record.
        """
        try:
            taken = [self._pending.get(timeout=timeout) if timeout else self._pending.get_nowait()]
        except queue.Empty:
            return 0
        while len(taken) < RELAY_BATCH:
            try:
                taken.append(self._pending.get_nowait())
            except queue.Empty:
                break
        now = time.monotonic()
        fresh = [item for queued_at, item in taken if now - queued_at < self.grace.total_seconds() / 2]
        if fresh and now >= self._breaker_until:
            self._publish(fresh)
        return len(taken)

    def store_once(self, records):
        """Store generic outbox records whose ids make them once-only, skipping those stored before; publish
        and return the new ones."""
        try:
            self.store.outbox.insert_many(records, ordered=False)
            fresh = records
        except BulkWriteError as exc:
            duplicates = {records[e["index"]]["_id"] for e in exc.details["writeErrors"] if e["code"] == 11000}
            if len(duplicates) != len(exc.details["writeErrors"]):
                raise
            fresh = [r for r in records if r["_id"] not in duplicates]
        for record in fresh:
            self.publish_now("outbox", record["_id"], record["routing_key"], record["message"])
        return fresh

    # --- background: marks and relay -------------------------------------------------------------
    def flush_marks(self):
        with self._marks_lock:
            marks, self._marks = self._marks, []
        by_collection = {}
        for collection, record_id in marks:
            by_collection.setdefault(collection, []).append(record_id)
        try:
            for collection, ids in by_collection.items():
                mongo.update_in(self.store.db[collection], ids, {"$set": {"published": True}})
        except PyMongoError as exc:
            log.warning("could not mark %d records published (the relay will republish): %r", len(marks), exc)

    def holds_lease(self):
        return holds_lease(self.store.leases, "outbox-relay", self.holder)

    def relay_once(self):
        """Publish stored records that were not confirmed; returns how many were published."""
        if not self.holds_lease():
            return 0
        publisher = self.publisher()
        published = 0
        for collection in self.collections:
            pending = list(self.store.db[collection].find(
                {"published": False, "created_at": {"$lt": utcnow() - self.grace}},
                {"message": 1, "routing_key": 1, "request_id": 1}).sort("created_at", 1).limit(RELAY_BATCH))
            if not pending:
                continue
            if not publisher.publish([(r["routing_key"], r["message"], headers_of(r.get("request_id")))
                                      for r in pending], messages.encode):
                log.warning("relay: broker unavailable, %d records wait", len(pending))
                return published
            mongo.update_in(self.store.db[collection], [r["_id"] for r in pending], {"$set": {"published": True}})
            published += len(pending)
            observe.PUBLISHED.labels("relay").inc(len(pending))
            log.info("relay: published %d pending %s", len(pending), collection)
        return published

    def backlog(self):
        """(records not yet published, age in seconds of the oldest of them) over every event collection."""
        count, oldest = 0, None
        for collection in self.collections:
            records = self.store.db[collection]
            count += records.count_documents({"published": False})
            first = records.find_one({"published": False}, {"created_at": 1}, sort=[("created_at", 1)])
            if first is not None and (oldest is None or first["created_at"] < oldest):
                oldest = first["created_at"]
        return count, (utcnow() - oldest).total_seconds() if oldest is not None else 0.0

    def collector(self):
        """Outbox figures for `/metrics`, read from the database when scraped (the same in every worker)."""
        def collect():
            count, age = self.backlog()
            yield GaugeMetricFamily("manyi_outbox_backlog", "Accepted records not yet published", value=count)
            yield GaugeMetricFamily("manyi_outbox_oldest_unpublished_seconds",
                                    "Age of the oldest accepted record not yet published (0: none)", value=age)
        return observe.FunctionCollector(collect)

    def start(self):
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="outbox", daemon=True)
            self._thread.start()
            atexit.register(self.stop)

    def stop(self):
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        while self.dispatch(0):  # what requests handed over is published before the process goes
            pass
        self.flush_marks()
        for publisher in self._publishers:
            publisher.close()

    def _run(self):
        ticks, next_tick = 0, time.monotonic() + TICK_SECONDS
        while not self._stop.is_set():
            self.dispatch(timeout=0.1)
            if time.monotonic() < next_tick:
                continue
            ticks, next_tick = ticks + 1, time.monotonic() + TICK_SECONDS
            self.flush_marks()
            if ticks % 4 == 0:
                try:
                    self.relay_once()
                except (PyMongoError, OSError) as exc:
                    log.warning("relay: %r", exc)


def holds_lease(leases, name, holder):
    """Take or renew the lease `name` for `holder` (one process at a time runs what it guards)."""
    now = utcnow()
    try:
        leases.find_one_and_update({"_id": name, "$or": [{"holder": holder}, {"until": {"$lt": now}}]},
                                   {"$set": {"holder": holder, "until": now + timedelta(seconds=LEASE_SECONDS)}},
                                   upsert=True)
        return True
    except DuplicateKeyError:
        return False
