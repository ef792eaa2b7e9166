"""The rules of appeals (申诉复核): the window, the states, what a department sees. Pure functions, no I/O.

A department appeals a 差评 of its own within `MANYI_APPEAL_WORKDAYS` Chinese working days of the rating's
arrival (the calendar the demand deadlines use); the administrator upholds it (the rating is excluded, the
差评 demand closes as 申诉成立) or rejects it (nothing changes). One appeal per rating: the appeal is named by
its 差评 demand, and each 差评 has exactly one.
"""
from services.survey.demands import rules as demand_rules
from shared import messages
from shared.domain import BAD_RATING
from shared.errors import Conflict, Forbidden, Invalid, pair

STATUSES = ("pending", "upheld", "rejected")
DECISIONS = ("upheld", "rejected")
STATUS_ZH = {"pending": "待复核", "upheld": "申诉成立", "rejected": "申诉驳回"}


def appeal_deadline(received_at, workdays):
    """End (Asia/Shanghai) of the `workdays`-th working day after the day the 差评 arrived."""
    return demand_rules.bad_rating_deadline(received_at, workdays)


def check_may_file(key, demand, now, workdays):
    """Raise why `key` may not appeal the 差评 of `demand` now: not a 差评 (400), another department's (403),
    the window closed (409)."""
    if demand.get("category") != BAD_RATING:
        raise Invalid("only a 差评 rectification demand can be appealed",
                      {"demand": pair("只能对差评整改诉求申诉", "not a bad_rating demand")})
    if key["role"] != "department" or key.get("department") != demand["department"]:
        raise Forbidden("a department appeals only the 差评 given to it",
                        {"demand": pair("只能对本单位收到的差评申诉", "another department's 差评")})
    deadline = appeal_deadline(demand["received_at"], workdays)
    if now > deadline:
        raise Conflict(f"the appeal window closed at {deadline.isoformat()}",
                       {"demand": pair(f"申诉期限已过（{workdays} 个工作日，截至 {deadline:%Y-%m-%d}）",
                                       f"appeals are filed within {workdays} working days")})
    return deadline


def new_appeal(id_, demand, reason, at, actor):
    return {"_id": id_, "demand": demand["_id"], "department": demand["department"], "period": demand["period"],
            "reason": reason, "status": "pending", "filed_at": at, "filed_by": actor,
            "decided_at": None, "decided_by": None, "note": None, "exclusion": None}


def check_may_decide(appeal):
    if appeal["status"] != "pending":
        raise Conflict("the appeal was decided already",
                       {"status": pair(f"申诉已复核（{STATUS_ZH[appeal['status']]}）", "already decided")})


def decided(appeal, decision, note, at, actor):
    """What the decision sets on the appeal."""
    return {"status": decision, "note": note, "decided_at": at, "decided_by": actor}


def event(appeal, type_):
    """`appeal.filed` / `appeal.decided`: the appeal's state, never the enterprise."""
    data = {"appeal_id": appeal["_id"], "demand_id": appeal["demand"], "department": appeal["department"],
            "period": appeal["period"], "status": appeal["status"], "filed_at": appeal["filed_at"].isoformat(),
            "decided_at": appeal["decided_at"].isoformat() if appeal.get("decided_at") else None}
    at = appeal["decided_at"] or appeal["filed_at"]
    return messages.envelope(type_, data, id_=f"{appeal['_id']}:{appeal['status']}", occurred_at=at)


def rating_target(demand):
    """The exclusion target (services/survey/exclusions/rules.py) of the one rating a 差评 demand rectifies: the
    answer's question, or the visit's rating of the demand's department."""
    source = demand.get("source") or {}
    if source.get("kind") == "response" and source.get("question"):
        return f"response:{source['id']}/{source['question']}"
    if source.get("kind") == "visit":
        return f"visit:{source['id']}/{demand['department']}"
    return None


def may_see(key, appeal):
    """Admins see every appeal, a department key its own department's."""
    return key["role"] == "admin" or (key["role"] == "department" and key.get("department") == appeal["department"])


def as_seen_by(key, appeal, demand):
    """The appeal with the 差评 it concerns (level, question or department rated, comment, when), as `key` may see
    it: for a department without the enterprise's consent, neither the enterprise nor the answer or visit it
    came from, and the day rather than the moment (demands.rules.as_seen_by)."""
    seen = demand_rules.as_seen_by(key, demand) if demand else None
    rating = demand_rules.rating_of(demand) if demand else None
    if seen is not None:
        rating = {**(rating or {}), "at": seen["received_at"], "enterprise": seen["enterprise"],
                  "anonymous": seen["anonymous"],
                  **{k: v for k, v in (seen.get("source") or {}).items() if k in ("kind", "question", "survey")}}
    return {**appeal, "rating": rating, "demand_status": demand["status"] if demand else None}
