"""The demand ledger in MongoDB: opening demands, changing them, and pushing the overdue ones.

A new demand is inserted holding the message of its creation (an outbox record, like a response), so
opening demands costs inserts only and rides in the same journaled write as the visit or answer that
opened them. A later change is one transaction: the conditional update of the demand with its history
entry, and its `demand.updated` message in the outbox; the message is then published at once or by the
relay. Overdue pushes are outbox records whose id names the demand: the unique id makes them once only.
"""
import logging
import uuid

from pymongo.errors import BulkWriteError

from services.survey.demands import rules
from shared import messages, mongo
from shared.demand_figures import is_overdue
from shared.domain import utcnow

log = logging.getLogger(__name__)
SYSTEM = {"role": "system", "name": "差评自动整改"}
SWEEP_BATCH = 500


class NotFound(Exception):
    pass


class Forbidden(Exception):
    pass


def new_id():
    return uuid.uuid4().hex


def as_record(demand):
    """A new demand as stored: with the message announcing it, as every outbox record holds."""
    return {**demand, "routing_key": messages.DEMAND_UPDATED, "message": rules.updated_event(demand),
            "published": False, "created_at": demand["received_at"]}


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


def publish_records(outbox, collection, records):
    for record in records:
        outbox.publish_now(collection, record["_id"], record["routing_key"], record["message"])


def change(services, demand_id, key, make_change):
    """Apply `make_change(demand)` (a rules.Change, or it raises IllegalTransition) to one demand.

    Raises NotFound, or Forbidden when a department key reaches for another department's demand.
    """
    store = services.store

    def work(session):
        demand = store.demands.find_one({"_id": demand_id}, {"message": 0}, session=session)
        if demand is None:
            raise NotFound(demand_id)
        if not rules.may_see(key, demand):
            raise Forbidden(demand_id)
        step = make_change(demand)
        after = rules.apply(demand, step)
        # The version in the filter makes a lost update impossible even outside a transaction.
        store.demands.update_one({"_id": demand_id, "version": demand["version"]},
                                 {"$set": {**step.set, "version": after["version"]}, "$push": {"history": step.entry}},
                                 session=session)
        message = rules.updated_event(after)
        store.outbox.insert_one({"_id": message["id"], "routing_key": messages.DEMAND_UPDATED, "message": message,
                                 "published": False, "created_at": utcnow()}, session=session)
        return after, message

    after, message = mongo.run_transaction(store.client, work)
    services.outbox.publish_now("outbox", message["id"], messages.DEMAND_UPDATED, message)
    return after


def sweep_overdue(services, now=None):
    """Push `demand.overdue` once for each open demand past its deadline; returns how many were new."""
    store, now = services.store, now or utcnow()
    due = list(store.demands.find({"status": {"$ne": "closed"}, "deadline": {"$lt": now}, "overdue_pushed": {"$ne": True}},
                                  {"department": 1, "period": 1, "deadline": 1, "status": 1}).limit(SWEEP_BATCH))
    due = [d for d in due if is_overdue(d, now)]
    if not due:
        return 0
    marks = [{"_id": f"overdue:{d['_id']}", "routing_key": messages.DEMAND_OVERDUE,
              "message": rules.overdue_event(d, now), "published": False, "created_at": now} for d in due]
    try:
        store.outbox.insert_many(marks, ordered=False)
        fresh = marks
    except BulkWriteError as exc:  # the ones already pushed (another process, or a crash before the flag)
        duplicates = {marks[e["index"]]["_id"] for e in exc.details["writeErrors"] if e["code"] == 11000}
        if len(duplicates) != len(exc.details["writeErrors"]):
            raise
        fresh = [m for m in marks if m["_id"] not in duplicates]
    publish_records(services.outbox, "outbox", fresh)
    # Only spares the next sweep the work; once-only rests on the marks' unique ids.
    mongo.update_in(store.demands, [d["_id"] for d in due], {"$set": {"overdue_pushed": True}})
    log.info("overdue: pushed %d demands past their deadline", len(fresh))
    return len(fresh)
