"""RabbitMQ topology and a confirming publisher (pika; one connection per thread, never shared)."""
import logging

import pika
from pika.exceptions import AMQPError

log = logging.getLogger(__name__)

EXCHANGE = "manyi.events"
QUEUE = "scoring.events"
DEAD_EXCHANGE = "manyi.dead"
DEAD_QUEUE = "scoring.dead"
# appeal.*: recorded as processed only (a mandatory publish needs a bound queue); kept for `manyi check` and replay.
ROUTING_KEYS = ("response.submitted", "visit.recorded", "demand.updated", "department.changed", "demand.overdue",
                "period.released", "rating.excluded", "rating.restored", "appeal.filed", "appeal.decided")
DELIVERY_LIMIT = 20  # a message that keeps crashing the worker is dead-lettered after this many tries
REASON_HEADER = "x-manyi-reason"
ROUTING_KEY_HEADER = "x-manyi-routing-key"  # the key a dead letter was published with, for `manyi replay-dead`
REQUEST_ID_HEADER = "x-request-id"          # the request that produced the message, to follow it in the logs


def request_id_of(props):
    value = (props.headers or {}).get(REQUEST_ID_HEADER) if props is not None else None
    return value.decode(errors="replace") if isinstance(value, bytes) else value
# The webhook deliveries' own queue (issue 17). Every publisher declares it, so events are kept from the
# first publish on, even before a delivery worker has ever run.
WEBHOOK_QUEUE = "webhooks.events"
WEBHOOK_DEAD_QUEUE = "webhooks.dead"
WEBHOOK_ROUTING_KEYS = ("response.submitted", "visit.recorded", "demand.updated", "demand.overdue",
                        "survey.opened", "survey.closed", "period.released")


def connection_parameters(url, timeout=3):
    params = pika.URLParameters(url)
    params.socket_timeout = timeout
    params.stack_timeout = timeout
    params.blocked_connection_timeout = timeout * 10
    params.connection_attempts = 1
    params.heartbeat = 60
    return params


def connect(url, timeout=3):
    return pika.BlockingConnection(connection_parameters(url, timeout))


def declare_topology(channel):
    """Exchange → dead-letter queue → quorum queue → bindings, idempotent."""
    channel.exchange_declare(EXCHANGE, "topic", durable=True)
    channel.exchange_declare(DEAD_EXCHANGE, "fanout", durable=True)
    channel.queue_declare(DEAD_QUEUE, durable=True, arguments={"x-queue-type": "quorum"})
    channel.queue_bind(DEAD_QUEUE, DEAD_EXCHANGE)
    channel.queue_declare(QUEUE, durable=True, arguments={
        "x-queue-type": "quorum",
        "x-dead-letter-exchange": DEAD_EXCHANGE,
        "x-delivery-limit": DELIVERY_LIMIT,
    })
    for key in ROUTING_KEYS:
        channel.queue_bind(QUEUE, EXCHANGE, key)
    declare_webhook_queue(channel)


def declare_webhook_queue(channel):
    """`webhooks.events` (quorum, durable) bound to what webhooks offer; poison goes to `webhooks.dead`."""
    channel.queue_declare(WEBHOOK_DEAD_QUEUE, durable=True, arguments={"x-queue-type": "quorum"})
    channel.queue_declare(WEBHOOK_QUEUE, durable=True, arguments={
        "x-queue-type": "quorum",
        "x-dead-letter-exchange": "",
        "x-dead-letter-routing-key": WEBHOOK_DEAD_QUEUE,
        "x-delivery-limit": DELIVERY_LIMIT,
    })
    for key in WEBHOOK_ROUTING_KEYS:
        channel.queue_bind(WEBHOOK_QUEUE, EXCHANGE, key)


def properties(message, headers=None):
    return pika.BasicProperties(delivery_mode=pika.DeliveryMode.Persistent, content_type="application/json",
                                message_id=message["id"], type=message["type"],
                                headers={"schema_version": message["schema_version"], **(headers or {})})


class Publisher:
    """Publishes persistent, mandatory messages and waits for the broker's confirm.

    Lazily connects; on a broken connection it reconnects once and retries. `publish` returns True
    only when the broker has confirmed every message, so the caller can treat the message as durable.
    """

    def __init__(self, url, timeout=3):
        self.url, self.timeout = url, timeout
        self._connection = self._channel = None

    def _open(self):
        self._connection = connect(self.url, self.timeout)
        self._channel = self._connection.channel()
        declare_topology(self._channel)
        self._channel.confirm_delivery()

    def close(self):
        try:
            if self._connection and self._connection.is_open:
                self._connection.close()
        except AMQPError:
            pass
        self._connection = self._channel = None

    def _publish_all(self, messages, encode):
        for routing_key, message, *headers in messages:
            self._channel.basic_publish(EXCHANGE, routing_key, encode(message),
                                        properties(message, headers[0] if headers else None), mandatory=True)

    def publish(self, messages, encode):
        """`messages`: [(routing_key, message[, headers])]. True when all were confirmed by the broker."""
        for attempt in (1, 2):
            try:
                if self._channel is None or not self._channel.is_open:
                    self.close()
                    self._open()
                self._publish_all(messages, encode)
                return True
            except (AMQPError, OSError) as exc:
                log.warning("publish failed (attempt %s): %r", attempt, exc)
                self.close()
        return False

    def ping(self):
        """True when the broker answers. A connection that went stale while idle (the broker dropped it
        after missed heartbeats, a restart in between) is not an outage: it is replaced once before
        saying no, so `/readyz` never answers 503 on a healthy broker."""
        for _ in (1, 2):
            try:
                if self._connection is None or not self._connection.is_open:
                    self.close()
                    self._open()
                self._connection.process_data_events(0)
                return True
            except (AMQPError, OSError):
                self.close()
        return False


def queue_depths(url, queues=(QUEUE, DEAD_QUEUE), timeout=2):
    """{queue: messages ready} by passive declares on a short-lived connection (for metrics and `check`)."""
    connection = connect(url, timeout)
    try:
        depths = {}
        for name in queues:
            channel = connection.channel()
            try:
                depths[name] = channel.queue_declare(name, passive=True).method.message_count
            except pika.exceptions.ChannelClosedByBroker:  # not declared yet: nothing in it
                depths[name] = 0
            finally:
                if channel.is_open:
                    channel.close()
        return depths
    finally:
        connection.close()
