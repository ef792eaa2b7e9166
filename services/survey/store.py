"""The survey service's MongoDB database `manyi_survey`: its collections and their indexes.

Features never touch a collection directly: each reads and stages writes through its own store
(`<feature>/store.py`), and writes commit through a unit of work (unit_of_work.py).
"""
from pymongo import ASCENDING, IndexModel

from shared import mongo


class SurveyStore:
    COLLECTIONS = ("keys", "departments", "enterprises", "surveys", "invitations", "invitation_events",
                   "responses", "outbox", "leases", "visits", "demands", "releases", "appeals", "audit",
                   "exclusions")

    def __init__(self, config, client=None):
        """`client`: a MongoClient, by default the process's one for `config.mongo_url` (tests pass a fake)."""
        self.client = client if client is not None else mongo.client(config.mongo_url)
        self.db = self.client[config.survey_db]
        for name in self.COLLECTIONS:
            setattr(self, name, self.db[name])

    def __getitem__(self, name):
        return self.db[name]

    def ensure_indexes(self):
        self.keys.create_indexes([IndexModel("hash", unique=True)])
        self.surveys.create_indexes([IndexModel([("code", ASCENDING), ("version", ASCENDING)], unique=True)])
        self.invitations.create_indexes([IndexModel([("survey_id", ASCENDING), ("enterprise", ASCENDING)])])
        self.invitation_events.create_indexes([IndexModel([("survey_id", ASCENDING), ("kind", ASCENDING)])])
        # One answer per enterprise and survey (so single use of tokens) rests on the derived _id
        # (answers.response_id_of), not on a read-then-write; the relay's index is the only other one.
        self.responses.create_indexes([IndexModel([("published", ASCENDING), ("created_at", ASCENDING)])])
        self.outbox.create_indexes([IndexModel([("published", ASCENDING), ("created_at", ASCENDING)])])
        self.visits.create_indexes([IndexModel([("published", ASCENDING), ("created_at", ASCENDING)])])
        self.demands.create_indexes([
            IndexModel([("published", ASCENDING), ("created_at", ASCENDING)]),
            IndexModel([("department", ASCENDING), ("deadline", ASCENDING)]),
            IndexModel([("status", ASCENDING), ("deadline", ASCENDING)]),
        ])
        self.appeals.create_indexes([IndexModel("demand", unique=True),  # one appeal per 差评
                                     IndexModel([("department", ASCENDING), ("filed_at", ASCENDING)])])
        self.audit.create_indexes([IndexModel("at"), IndexModel([("action", ASCENDING), ("at", ASCENDING)])])
        self.exclusions.create_indexes([IndexModel([("source_id", ASCENDING), ("active", ASCENDING)]),
                                        IndexModel([("period", ASCENDING), ("created_at", ASCENDING)])])

    def ping(self):
        mongo.ping(self.client)
