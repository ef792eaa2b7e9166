"""Recording a cadre's visit (万人助万企): ratings of departments and the enterprise's demands.

A visit rating counts like a survey answer (indicator `visit`, weight 1, linear points, channel `visit`,
period = the quarter of `visited_at`). The visit, its listed demands and the 差评 demands its low
ratings open are one unit of work, durable before the 202; their messages follow.
"""
import hashlib
import json
from datetime import timedelta

from services.survey.demands import ledger, rules
from services.survey.enterprises.rules import snapshot
from services.survey.outbox import event_record
from shared import messages
from shared.domain import (
    VISIT_INDICATOR,
    VISIT_INDICATOR_NAME,
    linear_points,
    period_of,
    reporting_window_start,
    utcnow,
)
from shared.errors import AlreadyExists, Conflict, Invalid, pair

CLOCK_SKEW = timedelta(hours=1)  # a phone's clock may run a little ahead


def visit_errors(body, departments, enterprise, now, quarters=2):
    """Per-field errors beyond the schema: who and what the visit names must exist, and when it happened
    must lie in the open reporting window (`quarters` quarters up to this one): a visit backdated into a
    closed quarter would change figures already reported."""
    errors = {}
    if enterprise is None:
        errors["enterprise"] = pair("未知企业", f"unknown enterprise {body['enterprise']}")
    opens = reporting_window_start(now, quarters)
    if body["visited_at"] > now + CLOCK_SKEW:
        errors["visited_at"] = pair("走访时间不能晚于现在", "visited_at is in the future")
    elif body["visited_at"] < opens:  # aware datetimes compare safely even in year 1 at +14:00
        errors["visited_at"] = pair(f"走访时间须在 {opens.date().isoformat()} 之后（已结束的季度不再受理）",
                                    f"visited_at must be on or after {opens.date().isoformat()} (closed quarters)")
    if not body["ratings"] and not body["demands"]:
        errors["ratings"] = pair("至少填写一项评价或诉求", "a visit records at least one rating or demand")
    for part in ("ratings", "demands"):
        for i, item in enumerate(body[part]):
            if item["department"] not in departments:
                errors.setdefault(part, {})[str(i)] = {
                    "department": pair("未知部门", f"unknown department {item['department']}")}
    rated = [r["department"] for r in body["ratings"]]
    if len(set(rated)) != len(rated) and "ratings" not in errors:
        errors["ratings"] = pair("每个部门只评价一次", "rate each department once per visit")
    return errors


def visit_message(visit_id, visited_at, enterprise, ratings, at):
    data = {"source_id": visit_id, "channel": "visit", "period": period_of(visited_at), "survey_id": None,
            "enterprise": snapshot(enterprise),
            "ratings": [{"question": None, "department": r["department"], "indicator": VISIT_INDICATOR,
                         "indicator_name": VISIT_INDICATOR_NAME, "weight": 1.0,
                         "level": r["level"], "points": linear_points(r["level"]), "comment": r.get("comment")}
                        for r in ratings], "nps": None}
    return messages.envelope(messages.VISIT_RECORDED, data, id_=visit_id, occurred_at=at)


def fingerprint(body):
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


def accepted(visit):
    return {"visit_id": visit["_id"], "demand_ids": visit["listed_ids"],
            "bad_rating_demand_ids": visit["bad_rating_ids"]}


def visit_id_of(client_id, key_id):
    """The stored id of a visit the client named. Derived, so that a client's id collides neither with another
    key's nor with the id of any other event (the worker de-duplicates on message ids of every type)."""
    return hashlib.sha256(f"visit\x1f{key_id}\x1f{client_id}".encode()).hexdigest()[:32]


def replay(services, visit_id, body, actor):
    """A resend of a visit with the client's id: the same 202 for the same visit, 409 for another one."""
    previous = services.visits.get(visit_id)
    if previous and previous["fingerprint"] == fingerprint(body) and previous["by"] == actor:
        return accepted(previous)
    raise Conflict("this visit id is taken by another visit",
                   {"id": pair("该走访编号已被另一条走访记录使用", "id already used for a different visit")})


def record_visit(services, body, key):
    """Record a visit for the cadre holding `key`; returns its ids once it and its demands are durable."""
    now = utcnow()
    departments = services.departments.names()
    enterprise = services.enterprises.get(body["enterprise"])
    errors = visit_errors(body, departments, enterprise, now, services.config.visit_quarters)
    if errors:
        raise Invalid("the visit is not valid / 走访记录有误", errors)
    actor, terms = rules.actor_of(key), rules.Terms.of(services.config)
    visit_id = visit_id_of(body["id"], key["_id"]) if body["id"] else ledger.new_id()
    if body["id"] and services.visits.get(visit_id):
        return replay(services, visit_id, body, actor)
    source = {"kind": "visit", "id": visit_id}
    listed = [ledger.as_record(rules.new_demand(ledger.new_id(), d["department"], d["category"], d["urgency"], d["text"],
                                                now, actor, enterprise["code"], source)) for d in body["demands"]]
    rectifications = ledger.rectifications(body["ratings"], now, enterprise["code"], source, terms,
                                           lambda r: (departments[r["department"]], {"comment": r.get("comment")}), actor)
    message = visit_message(visit_id, body["visited_at"], enterprise, body["ratings"], now)
    visit = {"_id": visit_id, "enterprise": enterprise["code"], "visited_at": body["visited_at"],
             "ratings": body["ratings"], "listed_ids": [d["_id"] for d in listed],
             "bad_rating_ids": [d["_id"] for d in rectifications], "by": actor, "fingerprint": fingerprint(body),
             "created_at": now}
    uow = services.unit_of_work()
    services.visits.add(uow, event_record(messages.VISIT_RECORDED, message, visit))
    services.demands.add_all(uow, listed + rectifications)
    try:
        uow.commit()
    except AlreadyExists:  # the same id sent twice at once
        return replay(services, visit_id, body, actor)
    return accepted(visit)
