"""The scoring worker's health (shared/health_server.py serves it): `/readyz` means broker and database reachable
and no batch stuck uncommitted for longer than STALL_SECONDS; `/metrics` adds queue depths and the worker's gauges."""
import time

from prometheus_client.core import GaugeMetricFamily

from shared import amqp, health_server, observe

# A batch that has waited this long for its commit (the database away, a lock held by a dead transaction)
# makes the worker not ready: an orchestrator or an operator sees the stall instead of a green light.
STALL_SECONDS = 10


class Health:
    def __init__(self):
        self.amqp_ok = False
        self.mongo_ok = False
        self.messages = 0
        self.ratings = 0
        self.last_batch_at = None
        self.waiting_since = None  # monotonic time a batch first failed to commit, until it commits
        self.started = time.time()

    def batch_done(self, messages, ratings):
        self.messages += messages
        self.ratings += ratings
        self.last_batch_at = time.time()

    def waiting_to_commit(self):
        if self.waiting_since is None:
            self.waiting_since = time.monotonic()

    def committed(self):
        self.waiting_since = None

    def idle(self):
        """Between batches nothing is waiting (a batch abandoned to a lost connection is redelivered)."""
        self.waiting_since = None

    def uncommitted_s(self):
        since = self.waiting_since
        return round(time.monotonic() - since, 1) if since is not None else 0.0

    def snapshot(self):
        stalled = self.uncommitted_s()
        return {"ready": self.amqp_ok and self.mongo_ok and stalled <= STALL_SECONDS,
                "rabbitmq": self.amqp_ok, "mongodb": self.mongo_ok, "batch_uncommitted_s": stalled,
                "messages": self.messages, "ratings": self.ratings, "last_batch_at": self.last_batch_at,
                "uptime_s": round(time.time() - self.started, 1)}


def queue_collector(amqp_url):
    def collect():
        depths = amqp.queue_depths(amqp_url)
        family = GaugeMetricFamily("manyi_queue_messages", "Messages ready in a queue", labels=["queue"])
        for queue, depth in depths.items():
            family.add_metric([queue], depth)
        yield family
    return observe.FunctionCollector(collect)


def serve(health, port, ping_mongo, amqp_url=None):
    """Serve health on `port` in a daemon thread; returns the server (port 0 picks one)."""
    extras = [queue_collector(amqp_url)] if amqp_url else []

    def worker_gauges():
        ready = GaugeMetricFamily("manyi_worker_ready", "1 when the worker is ready (see /readyz)")
        ready.add_metric([], 1 if health.snapshot()["ready"] else 0)
        waiting = GaugeMetricFamily("manyi_batch_uncommitted_seconds", "How long the current batch has waited "
                                    "for its commit (0: none waiting)")
        waiting.add_metric([], health.uncommitted_s())
        yield from (ready, waiting)

    extras.append(observe.FunctionCollector(worker_gauges))

    return health_server.serve(port, lambda: health_server.pinged(health, ping_mongo),
                               lambda: observe.metrics_text(extras))
