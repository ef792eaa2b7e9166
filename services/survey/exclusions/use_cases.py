"""Excluding ratings from every figure and restoring them (issue 16): the one path behind the API and
upheld appeals. Each change stores the exclusion record and its event (`rating.excluded`,
`rating.restored`) in one unit of work; scoring applies the event to every figure.
"""
from services.survey.audit import records as audit_records
from services.survey.demands.rules import actor_of
from services.survey.exclusions import rules
from services.survey.unit_of_work import StaleUpdate
from shared import messages
from shared.domain import utcnow
from shared.errors import AlreadyExists, Conflict, NotFound, pair


def state_message(record):
    """The record's state as its event; the id follows the version, so a resend is the same message."""
    type_ = messages.RATING_EXCLUDED if record["active"] else messages.RATING_RESTORED
    return type_, messages.envelope(type_, rules.event_data(record), id_=f"exclusion-{record['_id']}-{record['version']}")


def exclude(services, target, reason, actor, appeal=None, uow=None):
    """Exclude the ratings `target` names (see rules.py) for `reason`, by `actor` (a key record).

    With `uow` the record and its event are staged there and the caller commits (an upheld appeal);
    otherwise this commits its own unit of work. NotFound for an unknown answer, visit, question or
    department; Conflict when every rating named is already excluded. Returns the exclusion record.
    """
    store = services.exclusions
    kind, source_id, part = rules.parse_target(target)
    data = store.rated(kind, source_id)
    if data is None:
        what = ("答卷不存在", "no such answer") if kind == "response" else ("走访记录不存在", "no such visit")
        raise NotFound(f"nothing to exclude: {what[1]}", {"target": pair(*what)})
    named = rules.named_ratings(kind, data["ratings"], part)
    if {r["index"] for r in named} <= rules.covered(store.active_of(source_id)):
        raise Conflict("these ratings are already excluded", {"target": pair("已剔除", "already excluded")})
    record = {"_id": rules.exclusion_id_of(target, store.count_of_target(target) + 1), "target": target,
              "source_id": source_id, "channel": data["channel"], "period": data["period"],
              "enterprise": data["enterprise"]["code"], "whole": part is None, "ratings": named,
              "departments": sorted({r["department"] for r in named}), "reason": reason, "appeal": appeal,
              "by": actor_of(actor), "created_at": utcnow(), "active": True, "version": rules.EXCLUDED}
    own = uow is None
    uow = uow or services.unit_of_work()
    store.add(uow, record)
    audit_records.record(uow, actor, "exclusion.create", target, why=reason, at=record["created_at"],
                         details={"exclusion": record["_id"], "appeal": appeal, "departments": record["departments"],
                                  "ratings": len(named)})
    uow.event(*state_message(record))
    if own:
        try:
            uow.commit()
        except AlreadyExists as exc:  # another admin excluded the same target meanwhile
            raise Conflict("these ratings are already excluded",
                           {"target": pair("已剔除", "already excluded")}) from exc
    return record


def restore(services, exclusion_id, reason, actor, uow=None):
    """Restore an active exclusion: its ratings count again. NotFound for an unknown id, Conflict when it was
    restored already. With `uow` staged there for the caller to commit. Returns the restored record."""
    record = services.exclusions.get(exclusion_id)
    if record is None:
        raise NotFound("no such exclusion", {"id": pair("剔除记录不存在", "no such exclusion")})
    if not record["active"]:
        raise Conflict("this exclusion was restored already", {"id": pair("已恢复", "already restored")})
    change = {"active": False, "version": rules.RESTORED, "restored_at": utcnow(), "restored_by": actor_of(actor),
              "restore_reason": reason}
    record = {**record, **change}
    own = uow is None
    uow = uow or services.unit_of_work()
    services.exclusions.restore(uow, exclusion_id, change)
    audit_records.record(uow, actor, "exclusion.restore", record["target"], why=reason, at=change["restored_at"],
                         details={"exclusion": exclusion_id, "departments": record["departments"]})
    uow.event(*state_message(record))
    if own:
        try:
            uow.commit()
        except StaleUpdate as exc:
            raise Conflict("this exclusion was restored already", {"id": pair("已恢复", "already restored")}) from exc
    return record
