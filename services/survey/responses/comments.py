"""Comments about one department in one period: text answers the comment rule gives it (rules.py), and the
comments cadres recorded with a visit's rating of it. Paged by one cursor over both, in id order."""
from services.survey.responses import reading, rules
from services.survey.responses.identity import identity_of


def owned_questions(archive, department, period):
    """{survey id: (questions, [ids of its text questions about the department])} for the period's surveys."""
    out = {}
    for survey_id, questions in archive.survey_questions(period):
        mine = [qid for qid, owner in rules.comment_departments(questions).items() if owner == department]
        if mine:
            out[survey_id] = (questions, mine)
    return out


def rating_beside(questions, answers, text_id, department):
    """The level of the department's rating answered nearest before the comment, if any."""
    level = None
    for q in questions:
        if q["id"] == text_id:
            return level
        if q["type"] == "rating5" and q["department"] == department and q["id"] in answers:
            level = answers[q["id"]]
    return level


def page(archive, key, department, query):
    limit, after = query["limit"], query.get("cursor")
    owned = owned_questions(archive, department, query["period"])
    docs = []
    if owned:
        about = [{"survey_id": sid, "$or": [{f"answers.{qid}": {"$exists": True}} for qid in mine]}
                 for sid, (_, mine) in owned.items()]
        docs += [("survey", d) for d in archive.answering(about, after, limit)]
    docs += [("visit", d) for d in archive.visits_commenting(department, query["period"], after, limit)]
    docs.sort(key=lambda pair: pair[1]["_id"])
    more = len(docs) > limit
    docs = docs[:limit]
    names = reading.names_of(archive, key, [d for _, d in docs])
    items = []
    for channel, doc in docs:
        who = identity_of(key, doc, names)
        base = {"channel": channel, "source_id": doc["_id"], "submitted_at": doc["created_at"], "enterprise": who}
        if channel == "visit":
            items += [{**base, "survey_id": None, "question": None, "question_text": None, "level": r["level"],
                       "text": r["comment"]} for r in doc["ratings"] if r["department"] == department and r.get("comment")]
            continue
        questions, mine = owned[doc["survey_id"]]
        texts = {q["id"]: q["text"] for q in questions}
        items += [{**base, "survey_id": doc["survey_id"], "question": qid, "question_text": texts[qid],
                   "level": rating_beside(questions, doc["answers"], qid, department), "text": doc["answers"][qid]}
                  for qid in mine if qid in doc["answers"]]
    return items, (docs[-1][1]["_id"] if more and docs else None)
