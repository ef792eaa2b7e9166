"""The arrow RabbitMQ → MongoDB: take messages in batches, commit each batch in one transaction, ack.

Set-up in order (exchange → queue → bind → qos → consume); manual ack only after the batch's writes
are committed; reconnect with a growing back-off capped at 5 s.

Poison isolation: a message that cannot be decoded or applied — for any reason, a ValidationError, a
RecursionError from absurd nesting, a bug — goes to `scoring.dead` alone, with the reason in a header;
the rest of its batch is committed and acked. The worker never exits because of a message.

Prefetch, batch and the quorum queue's delivery limit together (DESIGN §2; deploy/README.md):
- prefetch defaults to two batches (MANYI_PREFETCH 400 for MANYI_BATCH_SIZE 200): one being committed,
  one arriving. Every unacked message's delivery count rises when a worker dies, so the prefetch is the
  number of messages a crash can charge that the worker never looked at.
- a message returned by SUSPECT_RETURNS or more crashes (its `x-delivery-count`) makes the worker
  *careful*: prefetch 1, each message in a transaction of its own and acked before the next arrives, for
  as long as such suspects come (a quorum queue hands returned messages out first). A message that
  kills the process outright (a segfault, the OOM killer) is then the only unacked one: it alone goes on
  burning its delivery limit (`amqp.DELIVERY_LIMIT`, 20), while the valid messages that were prefetched
  beside it stop at SUSPECT_RETURNS + 1 and are committed instead of dead-lettered with it. An ordinary
  crash (one return) is recovered from in full batches. The first unsuspected delivery restarts the
  consumer with the full prefetch and batches.
"""
import logging
import time

import pika
from marshmallow import ValidationError
from pika.exceptions import AMQPError
from pymongo.errors import ConnectionFailure

from shared import amqp, messages, mongo, observe

log = logging.getLogger(__name__)
MAX_BACKOFF = 5        # seconds between reconnects / commit retries while a dependency is away
REASON_LIMIT = 1000    # characters of the reason kept in the dead letter's header
SUSPECT_RETURNS = 3    # a message returned by this many crashes is applied alone (see above)


def returns_of(props):
    """How many times the broker took this message back from a consumer that died or rejected it."""
    count = (props.headers or {}).get("x-delivery-count") if props is not None else None
    return int(count) if isinstance(count, int) else 0


def decode_or_reason(body):
    """(message, None), or (None, why it cannot be decoded): any exception is the message's fault."""
    try:
        return messages.decode(body), None
    except ValidationError as exc:
        return None, f"invalid message: {exc.messages}"
    except RecursionError:
        return None, "undecodable message: nested too deeply (RecursionError)"
    except Exception as exc:  # noqa: BLE001 — UnicodeError, MemoryError on a huge number, a bug in a schema
        return None, f"undecodable message: {exc!r}"


class Consumer:
    def __init__(self, config, store, health):
        self.config, self.store, self.health = config, store, health
        self.stopping = False
        self.connection = self.channel = None
        self.careful = True

    # --- one batch ---------------------------------------------------------------------------------
    def dead_letter(self, method, props, body, reason):
        headers = dict(props.headers or {}) | {amqp.REASON_HEADER: reason[:REASON_LIMIT],
                                               amqp.ROUTING_KEY_HEADER: method.routing_key}
        self.channel.basic_publish("", amqp.DEAD_QUEUE, body, pika.BasicProperties(
            delivery_mode=pika.DeliveryMode.Persistent, content_type=props.content_type,
            message_id=props.message_id, type=props.type, headers=headers), mandatory=True)
        observe.DEAD_LETTERED.inc()
        log.warning("dead-lettered message %s: %s", props.message_id, reason[:200],
                    extra={"request_id": amqp.request_id_of(props), "message_id": props.message_id})

    def commit(self, valid):
        """Commit valid messages, retrying while MongoDB is away; isolate a message that cannot be applied.

        Returns (writes, [(message, delivery, reason)] that failed on their own).
        """
        backoff, tries = 0.5, 0
        while True:
            try:
                with observe.COMMIT_SECONDS.time():
                    writes = self.store.apply_batch([m for m, _ in valid])
                self.health.committed()
                return writes, []
            except Exception as exc:  # noqa: BLE001 — sorted below: the database's fault or the messages'
                tries += 1
                # A database dying mid-write can raise what looks like the data's fault: only an error that
                # repeats while the database answers is blamed on the messages.
                if mongo.is_transient(exc) or not self._database_answers() or (len(valid) == 1 and tries < 3):
                    if isinstance(exc, ConnectionFailure):
                        self.health.mongo_ok = False
                    self.health.waiting_to_commit()
                    log.warning("batch of %d not committed (%r); retrying in %ss", len(valid), exc, backoff)
                    self.connection.sleep(backoff)  # keeps the broker connection's heartbeats going
                    backoff = min(MAX_BACKOFF, backoff * 2)
                    continue
                if len(valid) == 1:  # a bug or an unforeseen message: this one alone
                    log.exception("message %s cannot be applied", valid[0][0]["id"])
                    return None, [(*valid[0], f"could not be applied: {exc!r}")]
                failed, writes = [], None
                for item in valid:  # find the culprit one by one; the others are committed
                    done, bad = self.commit([item])
                    failed += bad
                    writes = writes or done
                return writes, failed

    def _database_answers(self):
        try:
            self.store.ping()
            return True
        except Exception:  # noqa: BLE001 — unreachable for any reason
            return False

    def process(self, batch):
        """`batch`: [(method, props, body)]. Acks the whole batch once it is stored or dead-lettered."""
        started = time.monotonic()
        valid = []
        for method, props, body in batch:
            message, reason = decode_or_reason(body)
            if message is None:
                self.dead_letter(method, props, body, reason)
            else:
                valid.append((message, (method, props, body)))
        ratings = 0
        if valid:
            writes, failed = self.commit(valid)
            self.health.mongo_ok = True
            for _, (method, props, body), reason in failed:
                self.dead_letter(method, props, body, reason)
            ratings = len(writes.ratings) if writes else 0
        last = batch[-1][0]
        self.channel.basic_ack(last.delivery_tag, multiple=len(batch) > 1)
        observe.CONSUMED.inc(len(batch))
        self.health.batch_done(len(batch), ratings)
        log.info("batch: %d messages, %d ratings in %.0f ms", len(batch), ratings,
                 (time.monotonic() - started) * 1000,
                 extra={"request_id": ",".join(sorted({r for r in (amqp.request_id_of(p) for _, p, _ in batch)
                                                       if r}))[:400] or None})

    # --- the loop ------------------------------------------------------------------------------------
    def connect(self):
        self.connection = amqp.connect(self.config.amqp_url)
        self.channel = self.connection.channel()
        amqp.declare_topology(self.channel)
        self.channel.confirm_delivery()  # dead-lettering is confirmed before the original is acked
        self.careful = False

    def consume(self):
        """Consume in batches with the full prefetch; carefully (prefetch 1) while suspects come.

        A consumer's prefetch is fixed when it starts (basic.qos applies to consumers started after it, and
        quorum queues have no channel-wide prefetch), so leaving careful mode restarts the consumer.
        """
        while not self.stopping:
            self.channel.basic_qos(prefetch_count=1 if self.careful else self.config.prefetch)
            if not self.careful:
                log.info("consuming in batches of %d, prefetch %d", self.config.batch_size, self.config.prefetch)
            self._consume_until_fresh() if self.careful else self._consume_batches()

    def _consume_until_fresh(self):
        linger = self.config.batch_linger_ms / 1000
        for method, props, body in self.channel.consume(amqp.QUEUE, inactivity_timeout=linger):
            self.health.idle()
            if method is not None:
                self.process([(method, props, body)])  # each alone, acked before the next arrives
                if returns_of(props) < SUSPECT_RETURNS:
                    self.careful = False
                    break
            if self.stopping:
                break
        self.channel.cancel()

    def _consume_batches(self):
        linger = self.config.batch_linger_ms / 1000
        batch, first_at = [], 0.0
        for method, props, body in self.channel.consume(amqp.QUEUE, inactivity_timeout=linger):
            if method is not None and returns_of(props) >= SUSPECT_RETURNS:
                # A message that was in flight through several crashes: on its own, and carefully from here,
                # so that it cannot take others with it.
                if batch:
                    self.process(batch)
                    batch = []
                self.process([(method, props, body)])
                self.careful = True
                break
            elif method is not None:
                if not batch:
                    first_at = time.monotonic()
                batch.append((method, props, body))
            full = len(batch) >= self.config.batch_size
            if batch and (full or method is None or time.monotonic() - first_at >= linger):
                self.process(batch)
                batch = []
            self.health.idle()
            if self.stopping and not batch:
                break
        self.channel.cancel()

    def run(self):
        backoff = 0.5
        while not self.stopping:
            try:
                self.connect()
                self.health.amqp_ok = True
                log.info("scoring worker consuming %s (batch %d, linger %d ms, prefetch %d)", amqp.QUEUE,
                         self.config.batch_size, self.config.batch_linger_ms, self.config.prefetch)
                backoff = 0.5
                self.consume()
            except (AMQPError, OSError) as exc:
                self.health.amqp_ok = False
                if self.stopping:
                    break
                log.warning("broker connection lost (%r); reconnecting in %ss", exc, backoff)
                time.sleep(backoff)
                backoff = min(MAX_BACKOFF, backoff * 2)
            except Exception:  # a bug in the loop itself: never exit; unacked messages return to the queue
                self.health.amqp_ok = False
                if self.stopping:
                    break
                log.exception("consumer failed; reconnecting in %ss", backoff)
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
