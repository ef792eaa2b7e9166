"""Answers read back (`responses`, and the comments cadres record on `visits`): pages, batches and the
option counts. The answer path writes through answers/store.py; this side only reads."""
from shared.mongo import find_in

PROJECTION = {"answers": 1, "created_at": 1, "enterprise": 1, "survey_id": 1, "reasons": 1,
              "message.data.enterprise": 1}
VISIT_PROJECTION = {"enterprise": 1, "ratings": 1, "created_at": 1, "message.data.enterprise": 1}
BATCH = 1000


class AnswerArchive:
    def __init__(self, db):
        self.responses, self.visits, self.surveys, self.enterprises = (db.responses, db.visits, db.surveys,
                                                                       db.enterprises)

    def page(self, found, limit):
        """Up to `limit + 1` answers matching `found`, in response-id order (the _id index: reading needs no
        index on the hot path of answering); the extra one tells whether a next page exists."""
        return list(self.responses.find(found, PROJECTION).sort("_id", 1).limit(limit + 1))

    def batches(self, found):
        """Every matching answer, a batch at a time, from one server cursor (constant memory however many there
        are; one pass over the collection, where page after page would filter it again for each page). In the
        order the server keeps them: sorting would make the server hold every answer before the first row."""
        batch = []
        for doc in self.responses.find(found, PROJECTION, batch_size=BATCH):
            batch.append(doc)
            if len(batch) == BATCH:
                yield batch
                batch = []
        if batch:
            yield batch

    def chosen(self, survey_id, question_ids):
        """The answers to `question_ids` of every response to one survey version (for the option counts)."""
        projection = {f"answers.{qid}": 1 for qid in question_ids} or {"_id": 1}
        return self.responses.find({"survey_id": survey_id}, projection)

    def survey_questions(self, period):
        """(survey id, questions) of every survey version of the period."""
        return ((s["_id"], s["questions"]) for s in self.surveys.find({"period": period}, {"questions": 1}))

    def answering(self, about, after, limit):
        """Up to `limit + 1` answers matching any clause of `about`, after the cursor `after`, in id order."""
        since = [{"_id": {"$gt": after}}] if after else []
        return list(self.responses.find({"$and": [*since, {"$or": about}]}, PROJECTION).sort("_id", 1).limit(limit + 1))

    def visits_commenting(self, department, period, after, limit):
        """Up to `limit + 1` visits of the period with a commented rating of `department`, after `after`."""
        since = [{"_id": {"$gt": after}}] if after else []
        commented = {"department": department, "comment": {"$nin": [None, ""]}}
        return list(self.visits.find(
            {"$and": [*since, {"message.data.period": period}, {"ratings": {"$elemMatch": commented}}]},
            VISIT_PROJECTION).sort("_id", 1).limit(limit + 1))

    def enterprise_names(self, codes):
        return {e["_id"]: e["name"] for e in find_in(self.enterprises, "_id", list(codes), {"name": 1})}
