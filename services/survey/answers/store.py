"""Answers in MongoDB (`responses`): one per enterprise and survey code, each carrying its
`response.submitted` message (an outbox record)."""
from shared import mongo


class Responses:
    holds_events = True

    def __init__(self, db):
        self.collection = db.responses

    def add(self, uow, record):
        """Stage an answer; the commit raises AlreadyExists when the enterprise has answered already."""
        return uow.add("responses", record)

    def get(self, response_id):
        """The stored answer's invitation and fingerprint (what a resend is compared with), or None."""
        return self.collection.find_one({"_id": response_id}, {"fingerprint": 1, "invitation": 1})

    def exists(self, response_id):
        return self.collection.find_one({"_id": response_id}, {"_id": 1}) is not None

    def invitations(self, response_ids):
        """The invitations (ids) that answered, among the answers `response_ids`."""
        return {r.get("invitation") for r in mongo.find_in(self.collection, "_id", response_ids, {"invitation": 1})}

    def of_survey_code(self, code):
        """[{invitation, enterprise, created_at}] of every answer to any version of a survey."""
        return list(self.collection.find({"survey_code": code}, {"invitation": 1, "enterprise": 1, "created_at": 1}))
