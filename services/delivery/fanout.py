"""The arrow `webhooks.events` → deliveries: each batch of messages becomes one pending delivery per matching
subscription, stored (journaled, inserts only) before the batch is acked, so a crash loses nothing and a
redelivered message adds nothing (delivery ids are derived from the event's and the subscription's).

A paused subscription still gets its deliveries, kept pending until it is resumed: nothing is dropped.
"""
import logging
import time

import pika
from marshmallow import ValidationError
from pika.exceptions import AMQPError
from pymongo.errors import BulkWriteError, PyMongoError

from services.delivery import translate
from shared import amqp, messages
from shared.domain import utcnow
from shared.webhooks import new_delivery

log = logging.getLogger(__name__)
MAX_BACKOFF = 30
BATCH = 200
LINGER = 0.02


def insert_new(collection, docs):
    """insert_many that ignores documents already there (a message seen before); returns how many were new."""
    if not docs:
        return 0
    try:
        return len(collection.insert_many(docs, ordered=False).inserted_ids)
    except BulkWriteError as exc:
        errors = exc.details["writeErrors"]
        if any(e["code"] != 11000 for e in errors):
            raise
        return len(docs) - len(errors)


class Fanout:
    def __init__(self, config, db, health, notify=lambda subscriptions: None):
        self.config, self.db, self.health, self.notify = config, db, health, notify
        self.stopping = False
        self.connection = self.channel = None

    # --- one batch -------------------------------------------------------------------------------------
    def running_totals(self, submitted):
        """response id → (responses to its survey, of them from its township), counted in our own database."""
        rows = [{"_id": m["data"]["source_id"], "survey_id": m["data"].get("survey_id"),
                 "township": m["data"]["enterprise"]["township"]} for m in submitted]
        insert_new(self.db.accepted, rows)
        totals = {}
        for row in rows:
            for key in ((row["survey_id"],), (row["survey_id"], row["township"])):
                if key not in totals:
                    found = {"survey_id": key[0], **({"township": key[1]} if len(key) > 1 else {})}
                    totals[key] = self.db.accepted.count_documents(found)
        out = {}
        for row in reversed(rows):  # later answers of the batch hold the higher totals
            survey, town = (row["survey_id"],), (row["survey_id"], row["township"])
            out[row["_id"]] = (totals[survey], totals[town])
            totals[survey] -= 1
            totals[town] -= 1
        return out

    def deliveries(self, batch_messages, now):
        subscriptions = list(self.db.subscriptions.find({}, {"events": 1}))
        wanted = {e for s in subscriptions for e in s["events"]}
        if not wanted:
            return []
        submitted = [m for m in batch_messages if m["type"] == messages.RESPONSE_SUBMITTED]
        totals = self.running_totals(submitted) if submitted and "response.accepted" in wanted else {}
        docs = []
        for message in batch_messages:
            counts = (lambda m: totals.get(m["data"]["source_id"], (None, None))) if totals else None
            for event in translate.translate(message, counts):
                if event["type"] not in wanted:
                    continue
                body = {k: event[k] for k in ("id", "type", "occurred_at", "schema_version", "data")}
                docs += [new_delivery(s["_id"], body, now, event["seq"], event["order_key"])
                         for s in subscriptions if event["type"] in s["events"]]
        return docs

    def store(self, batch_messages):
        """Store the batch's deliveries, retrying while MongoDB is away; returns them."""
        backoff = 1
        while True:
            try:
                docs = self.deliveries(batch_messages, utcnow())
                self.health.events(insert_new(self.db.deliveries, docs))
                self.health.mongo_ok = True
                return docs
            except PyMongoError as exc:
                self.health.mongo_ok = False
                log.warning("deliveries of %d messages not stored (%r); retrying in %ss", len(batch_messages), exc,
                            backoff)
                self.connection.sleep(backoff)  # keeps the broker connection's heartbeats going
                backoff = min(MAX_BACKOFF, backoff * 2)

    def dead_letter(self, body, props, reason):
        headers = dict(props.headers or {}) | {amqp.REASON_HEADER: reason[:1000]}
        self.channel.basic_publish("", amqp.WEBHOOK_DEAD_QUEUE, body, pika.BasicProperties(
            delivery_mode=pika.DeliveryMode.Persistent, content_type=props.content_type,
            message_id=props.message_id, type=props.type, headers=headers), mandatory=True)
        log.warning("dead-lettered message %s: %s", props.message_id, reason[:200])

    def process(self, batch):
        valid = []
        for _method, props, body in batch:
            try:
                valid.append(translate.decode(body))
            except ValidationError as exc:
                self.dead_letter(body, props, f"invalid message: {exc.messages}")
        docs = self.store(valid) if valid else []
        self.channel.basic_ack(batch[-1][0].delivery_tag, multiple=True)
        self.health.messages += len(batch)
        if docs:
            self.notify({d["subscription"] for d in docs})

    # --- the loop -----------------------------------------------------------------------------------------
    def connect(self):
        self.connection = amqp.connect(self.config.amqp_url)
        self.channel = self.connection.channel()
        amqp.declare_topology(self.channel)
        self.channel.confirm_delivery()
        self.channel.basic_qos(prefetch_count=BATCH * 2)

    def consume(self):
        batch, first_at = [], 0.0
        for method, props, body in self.channel.consume(amqp.WEBHOOK_QUEUE, inactivity_timeout=LINGER):
            if method is not None:
                if not batch:
                    first_at = time.monotonic()
                batch.append((method, props, body))
            if batch and (len(batch) >= BATCH or method is None or time.monotonic() - first_at >= LINGER):
                self.process(batch)
                batch = []
            if self.stopping and not batch:
                break
        self.channel.cancel()

    def run(self):
        backoff = 1
        while not self.stopping:
            try:
                self.connect()
                self.health.amqp_ok = True
                log.info("delivery worker consuming %s", amqp.WEBHOOK_QUEUE)
                backoff = 1
                self.consume()
            except (AMQPError, OSError) as exc:
                self.health.amqp_ok = False
                if self.stopping:
                    break
                log.warning("broker connection lost (%r); reconnecting in %ss", exc, backoff)
                time.sleep(backoff)
                backoff = min(MAX_BACKOFF, backoff * 2)
            finally:
                self.close()

    def close(self):
        try:
            if self.connection and self.connection.is_open:
                self.connection.close()
        except AMQPError:
            pass
        self.connection = self.channel = None
