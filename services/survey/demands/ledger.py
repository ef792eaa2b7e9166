"""The demand ledger's use cases: opening demands, changing them, and pushing the overdue ones.

A new demand is stored holding the message of its creation (an outbox record), in the unit of work of
the visit or answer that opened it. A later change is one unit of work: the conditional update of the
demand with its history entry, and its `demand.updated` message. Overdue pushes are outbox records whose
id names the demand: the unique id makes them once only.
"""
import logging
import uuid

from services.survey.audit import records as audit_records
from services.survey.demands import rules
from services.survey.outbox import event_record
from services.survey.unit_of_work import StaleUpdate
from shared import messages
from shared.demand_figures import is_overdue
from shared.domain import utcnow
from shared.errors import Conflict, Forbidden, Invalid, NotFound, pair

log = logging.getLogger(__name__)
SYSTEM = {"role": "system", "name": "差评自动整改"}
SWEEP_BATCH = 500
ATTEMPTS = 3  # a change that lost a race is tried again on the demand as it now is
AUDITED = {"assign": "demand.assign", "callback": "demand.callback"}  # steps the audit log records (issue 16)


def new_id():
    return uuid.uuid4().hex


def as_record(demand):
    """A new demand as stored: with the message announcing it, as every outbox record holds."""
    return event_record(messages.DEMAND_UPDATED, rules.updated_event(demand, created=True), demand,
                        at=demand["received_at"])


def rectifications(ratings, at, enterprise, source, terms, subject_of, actor=SYSTEM, contact_ok=None):
    """差评 demands (as records) for every rating at level 1–2 of `ratings` (DESIGN §4).

    `contact_ok`: the enterprise's consent to be named to the department, for the whole answer; None takes
    each rating's own `contact_ok` (a visit asks per rating).
    """
    records = []
    for rating in ratings:
        if rating["level"] > 2:
            continue
        subject, detail = subject_of(rating)
        text = rules.bad_rating_text(rating["level"], subject, rating.get("comment"))
        records.append(as_record(rules.new_bad_rating(new_id(), rating["department"], text, at, actor, enterprise,
                                                      {**source, **detail}, terms,
                                                      rating.get("contact_ok") if contact_ok is None else contact_ok)))
    return records


def read(services, demand_id, key):
    """One demand, as `key` may see it: NotFound, or Forbidden for another department's key."""
    demand = services.demands.get(demand_id)
    if demand is None:
        raise NotFound(f"no demand {demand_id}", {"demand_id": pair("诉求不存在", "unknown demand")})
    if not rules.may_see(key, demand):
        raise Forbidden("this demand belongs to another department / 该诉求不属于本单位",
                        {"department": pair("该诉求不属于本单位", "another department's demand")})
    return demand


def change(services, demand_id, key, make_change):
    """Apply `make_change(demand)` (a rules.Change, or it raises IllegalTransition) to one demand.

    Raises NotFound, or Forbidden when a department key reaches for another department's demand. The
    update is conditional on the version read; when another change came first, the step is worked out
    again on the demand as it now is.
    """
    for _ in range(ATTEMPTS):
        demand = read(services, demand_id, key)
        step = make_change(demand)
        after = rules.apply(demand, step)
        uow = services.unit_of_work()
        services.demands.update(uow, demand, step, after)
        uow.event(messages.DEMAND_UPDATED, rules.updated_event(after))
        audit_step(uow, key, demand, step)
        try:
            uow.commit()
            return after
        except StaleUpdate:
            continue
    raise Conflict("the demand keeps changing; try again", {"version": pair("诉求正被他人修改，请重试", "try again")})


def audit_step(uow, key, demand, step):
    """The audit entry of an assignment or a callback, in the unit of work of the step."""
    action = AUDITED.get(step.entry["action"])
    if action:
        details = {k: step.entry[k].isoformat() if hasattr(step.entry[k], "isoformat") else step.entry[k]
                   for k in ("department", "deadline", "level", "from", "to") if k in step.entry}
        audit_records.record(uow, key, action, f"demand:{demand['_id']}", why=step.entry.get("comment"),
                             details=details, at=step.entry["at"])


# --- the steps, as the JSON API and the console both take them ------------------------------------------
# Who may take each step; a department key is further held to its own department's demands (rules.may_see).
ACTORS = {"assign": ("admin",), "progress": ("department", "admin"), "resolve": ("department", "admin"),
          "callback": ("admin", "cadre")}


def _check_actor(action, key):
    if key["role"] not in ACTORS[action]:
        raise Forbidden(f"this needs a key of role {' or '.join(ACTORS[action])}",
                        {"authorization": pair("密钥角色无权进行此操作", f"needs role {' or '.join(ACTORS[action])}")})


def assign(services, demand_id, key, department, deadline=None):
    """交办 to a department, due by `deadline` or the default term (7 days ordinary, 30 major)."""
    _check_actor("assign", key)
    if not services.departments.exists(department):
        raise Invalid("unknown department", {"department": pair("未知部门", "unknown department")})
    terms, actor = rules.Terms.of(services.config), rules.actor_of(key)
    return change(services, demand_id, key, lambda d: rules.assign(d, department, deadline, utcnow(), actor, terms))


def progress(services, demand_id, key, note):
    """A progress note (进展) by the department handling the demand."""
    _check_actor("progress", key)
    actor = rules.actor_of(key)
    return change(services, demand_id, key, lambda d: rules.progress(d, note, utcnow(), actor))


def resolve(services, demand_id, key, resolution):
    """办结, by the department's key (or an administrator)."""
    _check_actor("resolve", key)
    actor = rules.actor_of(key)
    return change(services, demand_id, key, lambda d: rules.resolve(d, resolution, utcnow(), actor))


def callback(services, demand_id, key, level, comment=None):
    """回访 with the enterprise's level: 3–5 closes the demand (销号), 1–2 reopens it."""
    _check_actor("callback", key)
    terms, actor = rules.Terms.of(services.config), rules.actor_of(key)
    return change(services, demand_id, key, lambda d: rules.callback(d, level, comment, utcnow(), actor, terms))


def sweep_overdue(services, now=None):
    """Push `demand.overdue` once for each open demand past its deadline; returns how many were new."""
    now = now or utcnow()
    due = [d for d in services.demands.overdue_unpushed(now, SWEEP_BATCH) if is_overdue(d, now)]
    if not due:
        return 0
    marks = [event_record(messages.DEMAND_OVERDUE, rules.overdue_event(d, now), {"_id": f"overdue:{d['_id']}"}, now)
             for d in due]
    fresh = services.outbox.store_once(marks)  # not the ones already pushed (another process, or a crash before the flag)
    # Only spares the next sweep the work; once-only rests on the marks' unique ids.
    services.demands.mark_pushed([d["_id"] for d in due])
    log.info("overdue: pushed %d demands past their deadline", len(fresh))
    return len(fresh)
