"""The delivery worker over HTTP: `/healthz` (alive), `/readyz` (broker and database reachable), `/metrics`
(Prometheus text: deliveries by outcome, pending deliveries and the age of the oldest one)."""
import threading
import time

from shared import health_server
from shared.domain import utcnow

OUTCOMES = ("delivered", "retry", "failed")


class Health:
    def __init__(self):
        self.amqp_ok = False
        self.mongo_ok = False
        self.messages = 0
        self.deliveries_created = 0
        self.outcomes = dict.fromkeys(OUTCOMES, 0)
        self._lock = threading.Lock()
        self.started = time.time()

    def events(self, created):
        self.deliveries_created += created

    def outcome(self, name, n):
        with self._lock:
            self.outcomes[name] += n

    def snapshot(self):
        return {"ready": self.amqp_ok and self.mongo_ok, "rabbitmq": self.amqp_ok, "mongodb": self.mongo_ok,
                "messages": self.messages, "deliveries_created": self.deliveries_created,
                "outcomes": dict(self.outcomes), "uptime_s": round(time.time() - self.started, 1)}


def metrics_text(health, db):
    """The Prometheus exposition; the pending figures are read from the database (every worker's)."""
    pending = db.deliveries.count_documents({"status": "pending"})
    oldest = db.deliveries.find_one({"status": "pending"}, {"created_at": 1}, sort=[("status", 1), ("created_at", 1)])
    age = (utcnow() - oldest["created_at"]).total_seconds() if oldest else 0.0
    lines = ["# HELP manyi_webhook_deliveries_total Tries of webhook deliveries by this worker, by outcome.",
             "# TYPE manyi_webhook_deliveries_total counter"]
    lines += [f'manyi_webhook_deliveries_total{{outcome="{k}"}} {v}' for k, v in health.outcomes.items()]
    lines += ["# HELP manyi_webhook_messages_total Messages consumed from webhooks.events by this worker.",
              "# TYPE manyi_webhook_messages_total counter", f"manyi_webhook_messages_total {health.messages}",
              "# HELP manyi_webhook_pending Deliveries waiting to be sent (all workers).",
              "# TYPE manyi_webhook_pending gauge", f"manyi_webhook_pending {pending}",
              "# HELP manyi_webhook_oldest_pending_seconds Age of the oldest pending delivery.",
              "# TYPE manyi_webhook_oldest_pending_seconds gauge", f"manyi_webhook_oldest_pending_seconds {age:.3f}"]
    return "\n".join(lines) + "\n"


def serve(health, port, db):
    """Serve the delivery worker's health on 127.0.0.1:`port` (shared/health_server.py)."""
    return health_server.serve(port, lambda: health_server.pinged(health, db.ping), lambda: metrics_text(health, db))
