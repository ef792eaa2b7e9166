"""Visits in MongoDB (`visits`): each carries its `visit.recorded` message (an outbox record)."""


class Visits:
    holds_events = True

    def __init__(self, db):
        self.collection = db.visits

    def add(self, uow, record):
        """Stage a visit; the commit raises AlreadyExists when its id is taken (the same visit sent twice)."""
        return uow.add("visits", record)

    def get(self, visit_id):
        """What a resend is compared with: fingerprint, author and the ids it was answered with; or None."""
        return self.collection.find_one({"_id": visit_id},
                                        {"fingerprint": 1, "by": 1, "listed_ids": 1, "bad_rating_ids": 1})

    def by_key(self, key_id, limit):
        """The visits one key recorded, newest first (at most `limit`), without their messages."""
        return list(self.collection.find({"by.key": key_id}, {"message": 0}).sort("visited_at", -1).limit(limit))

    def ids_by_key(self, key_id):
        return [v["_id"] for v in self.collection.find({"by.key": key_id}, {"_id": 1})]
