"""Exclusions in MongoDB (`exclusions`), and the stored ratings they name (read from answers and visits)."""
from pymongo import ASCENDING, DESCENDING


class Exclusions:
    def __init__(self, db):
        self.collection = db.exclusions
        self.db = db

    def add(self, uow, record):
        """Stage a new exclusion; the commit raises AlreadyExists when its derived id is taken (a race)."""
        return uow.add("exclusions", record)

    def restore(self, uow, exclusion_id, change):
        """Stage the restoration of an active exclusion; the commit raises StaleUpdate when it is not active."""
        uow.update("exclusions", {"_id": exclusion_id, "active": True}, {"$set": change})

    def get(self, exclusion_id):
        return self.collection.find_one({"_id": exclusion_id})

    def active_of(self, source_id):
        return list(self.collection.find({"source_id": source_id, "active": True}, {"ratings": 1}))

    def count_of_target(self, target):
        return self.collection.count_documents({"target": target})

    def rated(self, kind, source_id):
        """The `data` of the ratings event of an answer (`kind` response) or a visit, or None if unknown."""
        collection = self.db["responses" if kind == "response" else "visits"]
        record = collection.find_one({"_id": source_id}, {"message.data": 1})
        return record["message"]["data"] if record else None

    def page(self, query, skip, limit):
        """(exclusions newest first, total) matching department, period and active."""
        where = {}
        if query.get("department"):
            where["departments"] = query["department"]
        if query.get("period"):
            period = query["period"]
            where["period"] = period if "Q" in period else {"$regex": f"^{period}Q"}
        if query.get("active") is not None:
            where["active"] = query["active"]
        cursor = self.collection.find(where).sort([("created_at", DESCENDING), ("_id", ASCENDING)])
        return list(cursor.skip(skip).limit(limit)), self.collection.count_documents(where)
