"""Webhook delivery benchmark (issue 17): deliveries/s to a local receiver, the delay from an event to its
delivery (p50/p99), and the delivery worker's memory.

Starts its own embedded MongoDB server, RabbitMQ vhost, delivery worker (a real process) and receiver
(a keep-alive HTTP server in this process), then:
  (1) throughput: publishes `--events` demand events at once, with `--subscriptions` subscribers, and
      times from the first delivery to the last;
  (2) delay: publishes `--paced` events at `--rate` per second and measures, for each, from the time the
      event happened (its occurred_at) to its arrival at the receiver.
"""
import argparse
import json
import sys
import time
from dataclasses import replace
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from services.survey import create_app  # noqa: E402
from shared import amqp, messages  # noqa: E402
from shared.domain import utcnow  # noqa: E402
from shared.webhooks import WebhookDb  # noqa: E402
from tests.api import FlaskApi, ok  # noqa: E402
from tests.harness import DeliveryWorker, MongoServer, RabbitVhost, make_config, poll  # noqa: E402
from tests.integration.test_webhooks import DEMAND_EVENTS, demand_lives  # noqa: E402
from tests.receiver import Receiver  # noqa: E402


def rss_mb(pid):
    status = Path(f"/proc/{pid}/status").read_text()
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def publish(publisher, batch):
    assert publisher.publish([(m["type"], m) for m in batch], messages.encode), "broker refused"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=4000, help="events published at once (multiple of 4)")
    parser.add_argument("--subscriptions", type=int, default=2)
    parser.add_argument("--paced", type=int, default=800, help="events for the delay measurement")
    parser.add_argument("--rate", type=float, default=100.0, help="events per second while measuring the delay")
    args = parser.parse_args()

    mongo = MongoServer().start()
    vhost = RabbitVhost().create()
    receivers, worker = [], None
    try:
        config, variables = make_config(mongo.url, vhost.url)
        app = create_app(replace(config, webhook_allow_private=True), background=False)
        api = FlaskApi(app)
        receivers = [Receiver().start() for _ in range(args.subscriptions)]
        for receiver in receivers:
            ok(api("POST", "/api/v1/webhooks", config.admin_key, {"url": receiver.url, "events": DEMAND_EVENTS}), 201)
        worker = DeliveryWorker(variables).start()
        db, publisher = WebhookDb(config), amqp.Publisher(config.amqp_url)

        # (1) throughput
        batch = demand_lives(args.events // 4)
        expected = len(batch) * args.subscriptions
        started = time.time()
        for i in range(0, len(batch), 500):
            publish(publisher, batch[i:i + 500])
        published = time.time()
        poll(lambda: sum(len(r.requests) for r in receivers) >= expected, 600, 0.05, "every delivery")
        first = min(r.requests[0]["at"] for r in receivers)
        last = max(r.requests[-1]["at"] for r in receivers)
        rss_after_burst = rss_mb(worker.proc.pid)
        poll(lambda: db.deliveries.count_documents({"status": "delivered"}) >= expected, 120, 0.1, "recorded")

        # (2) delay from event to delivery, at a steady rate
        for r in receivers:
            with r.lock:
                r.requests.clear()
        sent = 0
        paced_start = time.monotonic()
        while sent < args.paced:
            publish(publisher, demand_lives(1, start=utcnow()))  # 4 events of one demand, occurred now
            sent += 4
            time.sleep(max(0.0, paced_start + sent / args.rate - time.monotonic()))
        wanted = sent * args.subscriptions
        poll(lambda: sum(len(r.requests) for r in receivers) >= wanted, 120, 0.05, "paced deliveries")
        delays = []
        for r in receivers:
            for req in r.requests:
                occurred = datetime.fromisoformat(json.loads(req["body"])["occurred_at"]).timestamp()
                delays.append((req["at"] - occurred) * 1000)
        rss_now, rss_peak = rss_mb(worker.proc.pid)
        publisher.close()

        print(f"webhooks: {len(batch)} events × {args.subscriptions} subscriptions = {expected} deliveries")
        print(f"  published in {published - started:.2f} s; first delivery after {first - started:.2f} s, "
              f"last after {last - started:.2f} s")
        print(f"  deliveries/s: {expected / max(last - first, 1e-9):,.0f} (first → last delivery), "
              f"{expected / max(last - started, 1e-9):,.0f} (from the first publish)")
        print(f"  event → delivery at {args.rate:.0f} events/s ({len(delays)} deliveries): "
              f"p50 {percentile(delays, 50):.0f} ms, p99 {percentile(delays, 99):.0f} ms, max {max(delays):.0f} ms")
        print(f"  delivery worker RSS: {rss_after_burst[0]:.0f} MB after the burst, {rss_now:.0f} MB now, "
              f"peak {rss_peak:.0f} MB")
    finally:
        if worker:
            worker.stop()
        for r in receivers:
            r.stop()
        vhost.delete()
        mongo.cleanup()


if __name__ == "__main__":
    main()
