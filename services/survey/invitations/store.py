"""Invitations in MongoDB: the links (`invitations`, keyed by the token's SHA-256, never the token) and their
first views (`invitation_events`). See tokens.py."""
from pymongo.errors import DuplicateKeyError

from services.survey.invitations.tokens import invitation_id
from shared import mongo


class Invitations:
    def __init__(self, db):
        self.collection = db.invitations
        self.events = db.invitation_events

    def get(self, token):
        """The invitation whose link carries `token`, or None."""
        return self.collection.find_one({"_id": invitation_id(token)})

    def by_id(self, inv_id):
        return self.collection.find_one({"_id": inv_id})

    def for_survey(self, survey_id):
        return list(self.collection.find({"survey_id": survey_id}))

    def of_enterprises(self, survey_id, codes):
        """This survey version's invitations of the enterprises `codes`."""
        return list(mongo.find_in(self.collection, "enterprise", codes, survey_id=survey_id))

    def add_many(self, invitations):
        self.collection.insert_many(invitations)

    def expire(self, ids, at):
        """End invitations now (a link re-issued because it could not be shown again)."""
        self.collection.update_many({"_id": {"$in": list(ids)}, "expires_at": {"$gt": at}}, {"$set": {"expires_at": at}})

    def close(self, survey_id):
        """Flag every invitation of a survey closed: the answer path reads the invitation anyway."""
        self.collection.update_many({"survey_id": survey_id, "closed": {"$ne": True}}, {"$set": {"closed": True}})

    def mark_opened(self, invitation, at):
        """The first page view marks the invitation opened: one insert, its _id unique, later views a no-op."""
        try:
            self.events.insert_one({
                "_id": f"{invitation['_id']}:opened", "invitation": invitation["_id"],
                "survey_id": invitation["survey_id"], "enterprise": invitation["enterprise"], "kind": "opened",
                "at": at})
        except DuplicateKeyError:
            pass

    def opened(self, survey_id):
        """{invitation id: first view} of a survey version's invitations."""
        return {e["invitation"]: e["at"] for e in self.events.find({"survey_id": survey_id, "kind": "opened"})}
