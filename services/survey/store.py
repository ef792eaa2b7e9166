"""The survey service's MongoDB database `manyi_survey`: collections and their indexes."""
from pymongo import ASCENDING, IndexModel

from shared import mongo


class SurveyStore:
    OPEN_SURVEYS_KEPT = 256

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
        self._open_surveys = {}
        self.visits = self.db.visits      # a cadre's visit with its visit.recorded message (an outbox record)
        self.demands = self.db.demands    # the demand ledger; each holds the message of its creation

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

    def survey_for_answers(self, survey_id):
        """The survey an answer is checked against, without a read per answer while it is open.

        An open survey's questions are frozen (a change makes a new version) and closing is terminal
        and flagged on every invitation first (`close_invitations`), which the answer path reads anyway;
        a survey that is not open is read afresh each time, so opening takes effect at once.
        """
        survey = self._open_surveys.get(survey_id)
        if survey is None:
            survey = self.surveys.find_one({"_id": survey_id})
            if survey is not None and survey["status"] == "open":
                if len(self._open_surveys) >= self.OPEN_SURVEYS_KEPT:
                    self._open_surveys.clear()
                self._open_surveys[survey_id] = survey
        return survey

    def close_invitations(self, survey_id):
        self.invitations.update_many({"survey_id": survey_id, "closed": {"$ne": True}}, {"$set": {"closed": True}})

    def ping(self):
        mongo.ping(self.client)
