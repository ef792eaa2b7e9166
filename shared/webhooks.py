"""Webhooks (issue 17), what the survey service's API and the delivery worker share: the events offered,
the signature, the retry schedule and the database both of them use (`manyi_webhooks`).

A receiver checks `Manyi-Signature: sha256=<hex>` = HMAC-SHA256(secret, "<Manyi-Timestamp>.<body>"), as
GitHub and Stripe do; the timestamp inside the signed text lets it refuse old replays.
"""
import hashlib
import hmac
import json
import random
import secrets
from datetime import UTC, datetime, timedelta

from pymongo import ASCENDING, DESCENDING, IndexModel

from shared import mongo

SCHEMA_VERSION = 1

# name → what it announces and the fields of its `data` (the README documents the same).
EVENTS = {
    "period.released": ("a quarter's (or year's) figures were released to portals (通报)",
                        ["period", "release", "released_at"]),
    "demand.created": ("a demand (诉求) was received", ["demand_id", "version", "department", "category", "urgency",
                                                     "status", "period", "received_at", "deadline"]),
    "demand.assigned": ("a demand was assigned (交办) to a department, or reopened after a low callback",
                        ["demand_id", "version", "department", "category", "status", "deadline", "reopened"]),
    "demand.overdue": ("an open demand passed its deadline", ["demand_id", "department", "period", "deadline"]),
    "demand.resolved": ("the department resolved (办结) a demand", ["demand_id", "version", "department", "status"]),
    "demand.closed": ("a demand was closed (销号) after a satisfied callback",
                      ["demand_id", "version", "department", "callback_level", "closed_at"]),
    "bad_rating.received": ("a 差评 (level 1–2) arrived; never the enterprise's identity",
                            ["department", "indicator", "question", "level", "comment", "channel", "period",
                             "survey_id"]),
    "survey.opened": ("a survey opened for answers", ["survey_id", "code", "version", "title", "period"]),
    "survey.closed": ("a survey closed", ["survey_id", "code", "version", "title", "period"]),
    "response.accepted": ("an answer was accepted: counts only, no answers",
                          ["survey_id", "period", "township", "responses", "township_responses"]),
}
PING = "ping"  # sent by POST /webhooks/{id}/ping; not subscribable


def new_secret():
    return "whsec_" + secrets.token_urlsafe(32)


def signature(secret, timestamp, body):
    """`sha256=<hex>`: HMAC-SHA256 of "<timestamp>.<body>" with the subscription's secret."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify(secret, timestamp, body, header):
    return hmac.compare_digest(signature(secret, timestamp, body), header or "")


def event_body(event):
    """The exact bytes POSTed (and signed): the same for every try of a delivery."""
    return json.dumps(event, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


def delivery_id(event_id, subscription_id):
    """The receiver's idempotency key; derived, so that a redelivered message makes no second delivery."""
    return hashlib.sha256(f"{event_id}\x1f{subscription_id}".encode()).hexdigest()[:32]


def backoff(attempts, base, cap, rng=random):
    """Seconds before the next try after `attempts` failed ones: exponential, capped, with equal jitter
    (half fixed, half random), so that receivers coming back are not hit by every sender at once."""
    delay = min(cap, base * 2 ** max(0, attempts - 1))
    return delay / 2 + rng.uniform(0, delay / 2)


def gives_up(window_from, now, next_delay, retry_hours):
    """After a failed try: is the next one past the retry window (then the delivery is marked failed)?"""
    return now + timedelta(seconds=next_delay) > window_from + timedelta(hours=retry_hours)


def seq_of(occurred_at, version=0, index=0):
    """A delivery's sortable position: when the change happened (UTC, microseconds), then version, index."""
    at = occurred_at if isinstance(occurred_at, datetime) else datetime.fromisoformat(occurred_at)
    return f"{at.astimezone(UTC):%Y-%m-%dT%H:%M:%S.%f}Z/{version:08d}/{index:04d}"


def new_delivery(subscription_id, event, now, seq, order_key=None):
    """A pending delivery: the exact body it will POST, due now, retried within a window from now."""
    return {"_id": delivery_id(event["id"], subscription_id), "subscription": subscription_id,
            "event": event["type"], "event_id": event["id"], "seq": seq, "order_key": order_key,
            "body": event_body(event).decode(), "status": "pending", "attempts": 0, "next_attempt_at": now,
            "window_from": now, "created_at": now, "last_code": None, "last_error": None,
            "last_attempt_at": None, "delivered_at": None}


class WebhookDb:
    """`manyi_webhooks`: subscriptions (with the signing secret), deliveries, and the lanes' leases."""

    def __init__(self, config):
        self.client = mongo.client(config.mongo_url)
        self.db = self.client[config.webhooks_db]
        self.subscriptions = self.db.subscriptions
        self.deliveries = self.db.deliveries
        self.lanes = self.db.lanes          # which delivery worker sends a subscription's deliveries
        self.accepted = self.db.accepted    # response ids counted for response.accepted's running totals

    def ensure_indexes(self):
        self.deliveries.create_indexes([
            IndexModel([("subscription", ASCENDING), ("status", ASCENDING), ("next_attempt_at", ASCENDING),
                        ("seq", ASCENDING)]),
            IndexModel([("subscription", ASCENDING), ("seq", DESCENDING)]),
            IndexModel([("status", ASCENDING), ("created_at", ASCENDING)]),
        ])
        self.accepted.create_indexes([IndexModel([("survey_id", ASCENDING), ("township", ASCENDING)])])

    def ping(self):
        mongo.ping(self.client)
