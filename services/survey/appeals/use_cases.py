"""Filing and deciding appeals (申诉复核): each one unit of work holding the appeal, the change of its 差评 demand
(with its `demand.updated`), the `appeal.*` event and the audit entry; an upheld appeal adds the exclusion of the
rating to the same unit, so the decision, the closed demand and the excluded rating exist together or not at all.
"""
import uuid

from services.survey.appeals import rules
from services.survey.audit import records as audit_records
from services.survey.demands import rules as demand_rules
from services.survey.exclusions import use_cases as exclusions
from services.survey.unit_of_work import StaleUpdate
from shared import messages
from shared.domain import utcnow
from shared.errors import AlreadyExists, Conflict, Forbidden, NotFound, pair

ATTEMPTS = 3  # the demand changed between reading and committing (a progress note): try again on it as it now is


def _demand(services, demand_id):
    demand = services.demands.get(demand_id)
    if demand is None:
        raise NotFound(f"no demand {demand_id}", {"demand": pair("诉求不存在", "unknown demand")})
    return demand


def _already():
    return Conflict("this 差评 was appealed already; one appeal per rating",
                    {"demand": pair("该差评已提出过申诉，每条差评只能申诉一次", "one appeal per rating")})


def file(services, key, demand_id, reason):
    """A department key appeals the 差评 behind its `bad_rating` demand `demand_id`; returns the appeal."""
    for _ in range(ATTEMPTS):
        demand, now = _demand(services, demand_id), utcnow()
        rules.check_may_file(key, demand, now, services.config.appeal_workdays)
        if services.appeals.of_demand(demand_id) is not None:
            raise _already()
        actor = demand_rules.actor_of(key)
        appeal = rules.new_appeal(uuid.uuid4().hex, demand, reason, now, actor)
        step = demand_rules.appeal_filed(demand, appeal["_id"], now, actor)
        after = demand_rules.apply(demand, step)
        uow = services.unit_of_work()
        services.appeals.add(uow, appeal)
        services.demands.update(uow, demand, step, after)
        uow.event(messages.DEMAND_UPDATED, demand_rules.updated_event(after))
        uow.event(messages.APPEAL_FILED, rules.event(appeal, messages.APPEAL_FILED))
        audit_records.record(uow, key, "appeal.file", f"appeal:{appeal['_id']}", why=reason,
                             details={"demand": demand_id, "department": demand["department"]}, at=now)
        try:
            uow.commit()
            return appeal
        except AlreadyExists as exc:  # another appeal of the same 差评 committed first (unique index on demand)
            raise _already() from exc
        except StaleUpdate:
            continue
    raise Conflict("the demand keeps changing; try again", {"version": pair("诉求正被他人修改，请重试", "try again")})


def read(services, appeal_id, key):
    """The appeal and its demand, as stored; NotFound, or Forbidden for another department's key."""
    appeal = services.appeals.get(appeal_id)
    if appeal is None:
        raise NotFound(f"no appeal {appeal_id}", {"appeal_id": pair("申诉不存在", "unknown appeal")})
    if not rules.may_see(key, appeal):
        raise Forbidden("this appeal belongs to another department",
                        {"department": pair("该申诉不属于本单位", "another department's appeal")})
    return appeal, services.demands.get(appeal["demand"])


def exclude_rating(services, appeal, demand, key, uow, note=None):
    """Stage the exclusion of the appealed rating in `uow`; its id, or None when an administrator had excluded
    it already (the decision stands: the rating is out either way)."""
    target = rules.rating_target(demand)
    if target is None:
        return None
    try:
        return exclusions.exclude(services, target, f"申诉成立：{note or appeal['reason']}", key, appeal=appeal["_id"], uow=uow)["_id"]
    except Conflict:  # already excluded: nothing staged
        return None


def decide(services, key, appeal_id, decision, note=None):
    """The administrator's decision: upheld excludes the rating (in the same unit of work) and closes the 差评
    demand as 申诉成立; rejected leaves both as they were."""
    for _ in range(ATTEMPTS):
        appeal, demand = read(services, appeal_id, key)
        rules.check_may_decide(appeal)
        now, actor, upheld = utcnow(), demand_rules.actor_of(key), decision == "upheld"
        changes = rules.decided(appeal, decision, note, now, actor)
        uow = services.unit_of_work()
        if upheld:
            changes["exclusion"] = exclude_rating(services, appeal, demand, key, uow, note)
        after_appeal = {**appeal, **changes}
        services.appeals.decide(uow, appeal, changes)
        step = demand_rules.appeal_decided(demand, upheld, now, actor, note)
        after = demand_rules.apply(demand, step)
        services.demands.update(uow, demand, step, after)
        uow.event(messages.DEMAND_UPDATED, demand_rules.updated_event(after))
        uow.event(messages.APPEAL_DECIDED, rules.event(after_appeal, messages.APPEAL_DECIDED))
        audit_records.record(uow, key, "appeal.decide", f"appeal:{appeal_id}", why=note,
                             details={"decision": decision, "demand": demand["_id"],
                                      "department": demand["department"]}, at=now)
        try:
            uow.commit()
            return after_appeal, after
        except StaleUpdate:
            continue  # decided meanwhile (then check_may_decide says so), or the demand changed
    raise Conflict("the appeal keeps changing; try again", {"version": pair("申诉正被他人处理，请重试", "try again")})
