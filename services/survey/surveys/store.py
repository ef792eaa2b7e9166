"""Surveys in MongoDB (`surveys`: one document per version of a code)."""
import secrets

from pymongo.errors import DuplicateKeyError

from shared.errors import Conflict, pair

DEFINITION_FIELDS = ("code", "title", "period", "scale", "questions")


class Surveys:
    OPEN_SURVEYS_KEPT = 256

    def __init__(self, db):
        self.collection = db.surveys
        self._open_surveys = {}

    def get(self, survey_id):
        return self.collection.find_one({"_id": survey_id})

    def all(self):
        return list(self.collection.find({}).sort([("code", 1), ("version", 1)]))

    def page(self, skip, limit):
        """(surveys on this page without their questions, how many there are), by code and version."""
        docs = self.collection.find({}, {"questions": 0}).sort([("code", 1), ("version", 1)]).skip(skip).limit(limit)
        return list(docs), self.collection.count_documents({})

    def delete_draft(self, survey_id):
        """True when a draft was deleted (the status in the filter: an opened survey is never deleted)."""
        return self.collection.delete_one({"_id": survey_id, "status": "draft"}).deleted_count == 1

    def add_version(self, definition, at):
        """Store a definition as the next version of its code, as a draft (the unique (code, version) index
        settles two versions stored at the same moment: the later one takes the next number)."""
        for _ in range(5):
            last = self.collection.find_one({"code": definition["code"]}, {"version": 1}, sort=[("version", -1)])
            doc = {"_id": secrets.token_hex(6), **{k: definition.get(k) for k in DEFINITION_FIELDS},
                   "version": (last["version"] + 1) if last else 1, "status": "draft", "created_at": at}
            try:
                self.collection.insert_one(doc)
                return doc
            except DuplicateKeyError:
                continue
        raise Conflict("could not store a new version; try again", {"code": pair("请重试", "try again")})

    def replace_draft(self, survey_id, definition):
        """Change a draft in place; False when it is no longer a draft."""
        result = self.collection.update_one({"_id": survey_id, "status": "draft"},
                                            {"$set": {k: definition.get(k) for k in DEFINITION_FIELDS}})
        return result.matched_count == 1

    def stage_status(self, uow, survey_id, status_from, status_to, at):
        """Stage moving a survey from one status to another in a unit of work (StaleUpdate if it moved first)."""
        uow.update("surveys", {"_id": survey_id, "status": status_from},
                   {"$set": {"status": status_to, f"{status_to}_at": at}})

    def for_answers(self, survey_id):
        """The survey an answer is checked against, without a read per answer while it is open.

        An open survey's questions are frozen (a change makes a new version) and closing is terminal
        and flagged on every invitation first (`Invitations.close`), which the answer path reads anyway;
        a survey that is not open is read afresh each time, so opening takes effect at once.
        """
        survey = self._open_surveys.get(survey_id)
        if survey is None:
            survey = self.get(survey_id)
            if survey is not None and survey["status"] == "open":
                if len(self._open_surveys) >= self.OPEN_SURVEYS_KEPT:
                    self._open_surveys.clear()
                self._open_surveys[survey_id] = survey
        return survey
