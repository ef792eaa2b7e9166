"""The demand ledger in MongoDB (`demands`). A new demand holds the message of its creation (an outbox
record, like an answer), so opening demands costs inserts only and rides in the unit of work of the
visit or answer that opened them."""
from shared import mongo

LISTED = {"message": 0}  # what a reader of the ledger sees: the demand without its creation message


class Demands:
    holds_events = True

    def __init__(self, db):
        self.collection = db.demands

    def add_all(self, uow, records):
        """Stage new demands (as records carrying their `demand.updated`, see ledger.as_record)."""
        for record in records:
            uow.add("demands", record)
        return records

    def update(self, uow, demand, change, after):
        """Stage a change of a demand read at `demand["version"]`: the commit fails (StaleUpdate) if another
        change came first, so no change is ever lost."""
        uow.update("demands", {"_id": demand["_id"], "version": demand["version"]},
                   {"$set": {**change.set, "version": after["version"]}, "$push": {"history": change.entry}})

    def get(self, demand_id):
        return self.collection.find_one({"_id": demand_id}, LISTED)

    def of_ids(self, demand_ids):
        """{id: demand} of these demands (those that exist)."""
        return {d["_id"]: d for d in mongo.find_in(self.collection, "_id", list(demand_ids), LISTED)}

    def page(self, criteria, now, sort, skip, limit):
        """(demands on this page, how many match) of a ledger query (see `query`)."""
        found = query(criteria, now)
        demands = list(self.collection.find(found, LISTED).sort(sort).skip(skip).limit(limit))
        return demands, self.collection.count_documents(found)

    def all(self, criteria, now, sort):
        return list(self.collection.find(query(criteria, now), LISTED).sort(sort))

    def in_use(self, field):
        """The values of `field` (category, period) that some demand has: the choices of the ledger's filters."""
        return sorted(v for v in self.collection.distinct(field) if v)

    def waiting_for_callback(self, visit_ids):
        """The resolved demands that came from these visits: the callbacks their cadre owes (oldest first)."""
        return list(mongo.find_in(self.collection, "source.id", list(visit_ids), {"message": 0, "history": 0},
                                  **{"source.kind": "visit", "status": "resolved"}))

    def overdue_unpushed(self, now, limit):
        """Open demands past their deadline whose `demand.overdue` was not pushed yet (at most `limit`)."""
        return list(self.collection.find(
            {"status": {"$ne": "closed"}, "deadline": {"$lt": now}, "overdue_pushed": {"$ne": True},
             "appeal_pending": {"$ne": True}},
            {"department": 1, "period": 1, "deadline": 1, "status": 1}).limit(limit))

    def mark_pushed(self, demand_ids):
        mongo.update_in(self.collection, demand_ids, {"$set": {"overdue_pushed": True}})


def query(criteria, now):
    """The Mongo filter of a ledger query: department, status, category, period (equal), overdue (true/false/None)."""
    found = {k: criteria[k] for k in ("department", "status", "category", "period") if criteria.get(k) is not None}
    if criteria.get("overdue") is True:
        found["$and"] = [{"status": {"$ne": "closed"}}, {"deadline": {"$lt": now}}, {"appeal_pending": {"$ne": True}}]
    elif criteria.get("overdue") is False:  # as shared.demand_figures.is_overdue: a pending appeal stops the clock
        found["$or"] = [{"status": "closed"}, {"deadline": None}, {"deadline": {"$gte": now}}, {"appeal_pending": True}]
    return found
