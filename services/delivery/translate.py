"""From what travels on `manyi.events` to the webhook events offered to subscribers (pure; no I/O).

Each webhook event is `{"id", "type", "occurred_at", "schema_version", "data"}`, plus what the worker needs
to deliver it: `seq` (order of arrival, sortable) and `order_key` (events with the same key reach a
subscriber in order: a demand's, a survey's). Ids are derived from the message's, so a message redelivered
by the broker makes the same events, which the deliveries' unique ids absorb.
"""
import json
from datetime import datetime

from marshmallow import ValidationError

from shared import messages
from shared.webhooks import SCHEMA_VERSION, seq_of

PERIOD_RELEASED = "period.released"  # raised by the release (通报) of issue 12 when it exists
DEMAND_FIELDS = ("demand_id", "version", "department", "category", "urgency", "status", "period", "received_at",
                 "first_assigned_at", "deadline", "first_resolved_at", "closed_at", "callback_level")
BAD = 2  # levels 1–2 are 差评


def decode(body):
    """The message, validated; `period.released` is read leniently (its schema belongs to the release).

    A visit rating's comment is not part of the ratings scoring reads, so it is taken from the raw body.
    """
    try:
        message = messages.decode(body)
        if message["type"] == messages.VISIT_RECORDED:
            raw = _json(body)["data"]["ratings"]
            for rating, sent in zip(message["data"]["ratings"], raw):
                rating["comment"] = sent.get("comment") if isinstance(sent.get("comment"), str) else None
        return message
    except ValidationError:
        raw = _json(body)
        if not (isinstance(raw, dict) and raw.get("type") == PERIOD_RELEASED and isinstance(raw.get("data"), dict)
                and isinstance(raw["data"].get("period"), str) and raw.get("id") and raw.get("occurred_at")):
            raise
        return raw


def _json(body):
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None


def event(message, type_, data, order_key=None, version=0, index=0):
    occurred_at = message["occurred_at"]
    return {"id": f"{message['id']}/{type_}/{index}", "type": type_,
            "occurred_at": occurred_at.isoformat() if isinstance(occurred_at, datetime) else occurred_at,
            "schema_version": SCHEMA_VERSION, "data": data,
            "seq": seq_of(occurred_at, version, index), "order_key": order_key}


def _iso(value):
    return value.isoformat() if isinstance(value, datetime) else value


def demand_events(message):
    """`demand.updated` → created / assigned / resolved / closed, by what the change did."""
    d = message["data"]
    state = {k: _iso(d.get(k)) for k in DEMAND_FIELDS}
    actions = d.get("actions") or (["receive"] if d["version"] == 1 else [])
    kinds = []
    if "receive" in actions:
        kinds.append("demand.created")
    if d["status"] == "assigned" and ("assign" in actions or "callback" in actions
                                      or (not d.get("actions") and d["version"] > 1)):
        kinds.append("demand.assigned")
    if d["status"] == "resolved" and ("resolve" in actions or not d.get("actions")):
        kinds.append("demand.resolved")
    if d["status"] == "closed" and ("callback" in actions or not d.get("actions")):
        kinds.append("demand.closed")
    out = []
    for i, kind in enumerate(kinds):
        data = dict(state)
        if kind == "demand.assigned":
            data["reopened"] = "callback" in actions
        out.append(event(message, kind, data, order_key=f"demand:{d['demand_id']}", version=d["version"], index=i))
    return out


def bad_ratings(message):
    """A 差评 per rating at level 1–2: what was rated and how; never who rated it."""
    d = message["data"]
    return [event(message, "bad_rating.received",
                  {"department": r["department"], "indicator": r["indicator"], "question": r.get("question"),
                   "level": r["level"], "comment": r.get("comment"), "channel": d["channel"], "period": d["period"],
                   "survey_id": d.get("survey_id")}, index=i)
            for i, r in enumerate(d["ratings"]) if r["level"] <= BAD]


def translate(message, counts=None):
    """The webhook events one message raises. `counts(message) → (responses, township_responses)` gives
    response.accepted its running totals (the worker counts them in its own database)."""
    type_, d = message["type"], message["data"]
    if type_ == messages.DEMAND_UPDATED:
        return demand_events(message)
    if type_ == messages.DEMAND_OVERDUE:
        data = {"demand_id": d["demand_id"], "department": d["department"], "period": d["period"],
                "deadline": _iso(d["deadline"])}
        return [event(message, "demand.overdue", data, order_key=f"demand:{d['demand_id']}", version=10**7)]
    if type_ in (messages.SURVEY_OPENED, messages.SURVEY_CLOSED):
        data = {k: d.get(k) for k in ("survey_id", "code", "version", "title", "period")}
        return [event(message, type_, data, order_key=f"survey:{d['survey_id']}",
                      version=1 if type_ == messages.SURVEY_OPENED else 2)]
    if type_ == messages.VISIT_RECORDED:
        return bad_ratings(message)
    if type_ == messages.RESPONSE_SUBMITTED:
        responses, township_responses = counts(message) if counts else (None, None)
        accepted = event(message, "response.accepted",
                         {"survey_id": d.get("survey_id"), "period": d["period"],
                          "township": d["enterprise"]["township"], "responses": responses,
                          "township_responses": township_responses}, index=99)
        return [accepted, *bad_ratings(message)]
    if type_ == PERIOD_RELEASED:
        data = {"period": d["period"], "release": d.get("release"), "released_at": _iso(d.get("released_at"))}
        return [event(message, PERIOD_RELEASED, data, order_key=f"period:{d['period']}", version=d.get("release") or 0)]
    return []
