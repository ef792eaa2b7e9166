"""The survey service's MongoDB database `manyi_survey`: collections and their indexes."""
from pymongo import ASCENDING, IndexModel

from shared import mongo


class SurveyStore:
    def __init__(self, config):
        self.client = mongo.client(config.mongo_url)
        self.db = self.client[config.survey_db]
        self.keys = self.db.keys
        self.departments = self.db.departments
        self.enterprises = self.db.enterprises
        self.surveys = self.db.surveys
        self.invitations = self.db.invitations
        self.invitation_events = self.db.invitation_events
        self.responses = self.db.responses
        self.outbox = self.db.outbox
        self.leases = self.db.leases

    def ensure_indexes(self):
        self.keys.create_indexes([IndexModel("hash", unique=True)])
        self.surveys.create_indexes([IndexModel([("code", ASCENDING), ("version", ASCENDING)], unique=True)])
        self.invitations.create_indexes([IndexModel([("survey_id", ASCENDING), ("enterprise", ASCENDING)])])
        self.invitation_events.create_indexes([IndexModel([("survey_id", ASCENDING), ("kind", ASCENDING)])])
        # Single use and one answer per enterprise per survey are enforced here, not by read-then-write.
        self.responses.create_indexes([
            IndexModel("token", unique=True),
            IndexModel([("survey_code", ASCENDING), ("enterprise", ASCENDING)], unique=True),
            IndexModel([("published", ASCENDING), ("created_at", ASCENDING)]),
        ])
        self.outbox.create_indexes([IndexModel([("published", ASCENDING), ("created_at", ASCENDING)])])

    def ping(self):
        mongo.ping(self.client)
