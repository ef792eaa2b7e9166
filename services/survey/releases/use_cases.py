"""Releasing a period (通报): release N of it, stored with its `period.released` event in one unit of work."""
from services.survey.audit import records as audit_records
from shared import messages
from shared.domain import utcnow
from shared.errors import AlreadyExists, Conflict, pair


def release_message(period, number, at):
    # The id names the period and release: a record republished by the relay is the same message to the worker.
    data = {"period": period, "release": number, "released_at": at.isoformat()}
    return messages.envelope(messages.PERIOD_RELEASED, data, id_=f"release:{period}:{number}", occurred_at=at)


def release(services, period, key):
    """Release the period's current figures to portals as its next release; returns the release record."""
    now = utcnow()
    latest = services.releases.latest(period)
    number = (latest["release"] if latest else 0) + 1
    record = {"_id": f"{period}:{number}", "period": period, "release": number, "released_at": now,
              "by": key.get("name") or key["role"]}
    uow = services.unit_of_work()
    services.releases.add(uow, record)
    uow.event(messages.PERIOD_RELEASED, release_message(period, number, now))
    audit_records.record(uow, key, "period.release", f"period:{period}", details={"release": number}, at=now)
    try:
        uow.commit()
    except AlreadyExists as exc:
        raise Conflict("the period was released by someone else just now; try again",
                       {"period": pair("刚刚已有人发布本期，请刷新后重试", "released concurrently")}) from exc
    return record
