"""Appeals (申诉) in MongoDB (`appeals`). One appeal per 差评 rests on the unique index of `demand` (the 差评's one
demand names the rating), not on a read-then-write."""
from shared.domain import quarters_of


class Appeals:
    def __init__(self, db):
        self.collection = db.appeals

    def add(self, uow, record):
        """Stage a new appeal; a second appeal of the same 差评 makes the commit AlreadyExists."""
        return uow.add("appeals", record)

    def decide(self, uow, appeal, changes):
        """Stage the decision of a pending appeal: the commit fails (StaleUpdate) if it was decided meanwhile."""
        uow.update("appeals", {"_id": appeal["_id"], "status": "pending"}, {"$set": changes})

    def get(self, appeal_id):
        return self.collection.find_one({"_id": appeal_id})

    def of_demand(self, demand_id):
        return self.collection.find_one({"demand": demand_id})

    def page(self, criteria, skip, limit):
        """(appeals on this page, newest first, how many match) for status, department and period (a year: its
        quarters)."""
        found = {k: v for k, v in criteria.items() if v is not None}
        if found.get("period"):
            found["period"] = {"$in": quarters_of(found["period"])}
        appeals = list(self.collection.find(found).sort([("filed_at", -1), ("_id", 1)]).skip(skip).limit(limit))
        return appeals, self.collection.count_documents(found)
