"""Reading stored answers back: pages and batches of responses with the names of their enterprises."""
from services.survey.responses import rules
from services.survey.responses.identity import identity_of, identity_visible


def names_of(archive, key, responses):
    """{enterprise code: name}, read only when the key may see identities at all."""
    if not responses or not identity_visible(key):
        return {}
    return archive.enterprise_names({r["enterprise"] for r in responses})


def listed(archive, survey, query, key):
    """(one page of a survey's answers as `key` reads them, next cursor or None): the API's list and the
    console's table. `query` is already held to what the key may ask (api.scoped)."""
    numbers = rules.numbers_of(survey["questions"])
    shown = rules.questions_about(survey["questions"], query.get("department"))
    docs, cursor = page(archive, survey, query)
    names = names_of(archive, key, docs)
    return [{"id": d["_id"], "survey_id": d["survey_id"], "submitted_at": d["created_at"],
             "enterprise": identity_of(key, d, names), "answers": rules.answer_items(shown, numbers, d["answers"])}
            for d in docs], cursor


def page(archive, survey, query):
    """(responses of one page, next cursor or None), in response-id order."""
    docs = archive.page(rules.response_filter(survey["_id"], query, survey["questions"]), query["limit"])
    more = len(docs) > query["limit"]
    docs = docs[:query["limit"]]
    return docs, (docs[-1]["_id"] if more and docs else None)


def batches(archive, survey, query):
    """Every matching response, a batch at a time (AnswerArchive.batches)."""
    return archive.batches(rules.response_filter(survey["_id"], query, survey["questions"]))
