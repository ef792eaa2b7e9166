"""The arrow RabbitMQ → MongoDB: take messages in batches, commit each batch in one transaction, ack.

Set-up in order (exchange → queue → bind → qos → consume); manual ack only after the batch's writes
are committed; invalid messages go to `scoring.dead` with the reason in a header; reconnect with a
growing back-off capped at 30 s.
"""
import logging
import time

import pika
from marshmallow import ValidationError
from pika.exceptions import AMQPError
from pymongo.errors import PyMongoError

from shared import amqp, messages

log = logging.getLogger(__name__)
MAX_BACKOFF = 30


class Consumer:
    def __init__(self, config, store, health):
        self.config, self.store, self.health = config, store, health
        self.stopping = False
        self.connection = self.channel = None

    # --- one batch ---------------------------------------------------------------------------------
    def dead_letter(self, body, props, reason):
        headers = dict(props.headers or {}) | {amqp.REASON_HEADER: reason[:1000]}
        self.channel.basic_publish("", amqp.DEAD_QUEUE, body, pika.BasicProperties(
            delivery_mode=pika.DeliveryMode.Persistent, content_type=props.content_type,
            message_id=props.message_id, type=props.type, headers=headers), mandatory=True)
        log.warning("dead-lettered message %s: %s", props.message_id, reason[:200])

    def commit(self, valid):
        """Commit valid messages, retrying while MongoDB is away; isolate a message that cannot be applied."""
        backoff = 1
        while True:
            try:
                return self.store.apply_batch([m for m, _ in valid]), []
            except PyMongoError as exc:
                self.health.mongo_ok = False
                log.warning("batch of %d not committed (%r); retrying in %ss", len(valid), exc, backoff)
                self.connection.sleep(backoff)  # keeps the broker connection's heartbeats going
                backoff = min(MAX_BACKOFF, backoff * 2)
            except Exception:  # a bug or an unforeseen message: find the culprit one by one
                if len(valid) == 1:
                    log.exception("message %s cannot be applied", valid[0][0]["id"])
                    return None, valid
                failed = []
                for item in valid:
                    _, bad = self.commit([item])
                    failed += bad
                return None, failed

    def process(self, batch):
        """`batch`: [(method, props, body)]. Acks the whole batch once it is stored."""
        started = time.monotonic()
        valid = []
        for method, props, body in batch:
            try:
                valid.append((messages.decode(body), (method, props, body)))
            except ValidationError as exc:
                self.dead_letter(body, props, f"invalid message: {exc.messages}")
        ratings = 0
        if valid:
            writes, failed = self.commit(valid)
            self.health.mongo_ok = True
            for _, (_method, props, body) in failed:
                self.dead_letter(body, props, "could not be applied; see the worker's log")
            ratings = len(writes.ratings) if writes else 0
        self.channel.basic_ack(batch[-1][0].delivery_tag, multiple=True)
        self.health.batch_done(len(batch), ratings)
        log.info("batch: %d messages, %d ratings in %.0f ms", len(batch), ratings,
                 (time.monotonic() - started) * 1000)

    # --- the loop ------------------------------------------------------------------------------------
    def connect(self):
        self.connection = amqp.connect(self.config.amqp_url)
        self.channel = self.connection.channel()
        amqp.declare_topology(self.channel)
        self.channel.confirm_delivery()  # dead-lettering is confirmed before the original is acked
        self.channel.basic_qos(prefetch_count=self.config.prefetch)

    def consume(self):
        linger = self.config.batch_linger_ms / 1000
        batch, first_at = [], 0.0
        for method, props, body in self.channel.consume(amqp.QUEUE, inactivity_timeout=linger):
            if method is not None:
                if not batch:
                    first_at = time.monotonic()
                batch.append((method, props, body))
            full = len(batch) >= self.config.batch_size
            if batch and (full or method is None or time.monotonic() - first_at >= linger):
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
                log.info("scoring worker consuming %s (batch %d, linger %d ms, prefetch %d)", amqp.QUEUE,
                         self.config.batch_size, self.config.batch_linger_ms, self.config.prefetch)
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
