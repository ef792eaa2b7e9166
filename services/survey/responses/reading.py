"""Reading stored answers back: pages and batches of responses with the names of their enterprises."""
from services.survey.responses import rules
from services.survey.responses.identity import identity_visible


def names_of(archive, key, responses):
    """{enterprise code: name}, read only when the key may see identities at all."""
    if not responses or not identity_visible(key):
        return {}
    return archive.enterprise_names({r["enterprise"] for r in responses})


def page(archive, survey, query):
    """(responses of one page, next cursor or None), in response-id order."""
    docs = archive.page(rules.response_filter(survey["_id"], query, survey["questions"]), query["limit"])
    more = len(docs) > query["limit"]
    docs = docs[:query["limit"]]
    return docs, (docs[-1]["_id"] if more and docs else None)


def batches(archive, survey, query):
    """Every matching response, a batch at a time (AnswerArchive.batches)."""
    return archive.batches(rules.response_filter(survey["_id"], query, survey["questions"]))
