"""Reading stored answers back: pages and batches of responses with the names of their enterprises."""
from services.survey.responses import rules
from services.survey.responses.identity import identity_of, identity_visible
from shared.mongo import find_in

PROJECTION = {"answers": 1, "created_at": 1, "enterprise": 1, "survey_id": 1, "reasons": 1,
              "message.data.enterprise": 1}
BATCH = 1000


def names_of(store, key, responses):
    """{enterprise code: name}, read only when the key may see identities at all."""
    if not responses or not identity_visible(key):
        return {}
    codes = list({r["enterprise"] for r in responses})
    return {e["_id"]: e["name"] for e in find_in(store.enterprises, "_id", codes, {"name": 1})}


def listed(store, survey, query, key):
    """(one page of a survey's answers as `key` reads them, next cursor or None): the API's list and the
    console's table. `query` is already held to what the key may ask (api.scoped)."""
    numbers = rules.numbers_of(survey["questions"])
    shown = rules.questions_about(survey["questions"], query.get("department"))
    docs, cursor = page(store, survey, query)
    names = names_of(store, key, docs)
    return [{"id": d["_id"], "survey_id": d["survey_id"], "submitted_at": d["created_at"],
             "enterprise": identity_of(key, d, names), "answers": rules.answer_items(shown, numbers, d["answers"])}
            for d in docs], cursor


def page(store, survey, query):
    """(responses of one page, next cursor or None), in response-id order (the _id index; no index on the hot
    path of answering is needed for reading)."""
    found = rules.response_filter(survey["_id"], query, survey["questions"])
    docs = list(store.responses.find(found, PROJECTION).sort("_id", 1).limit(query["limit"] + 1))
    more = len(docs) > query["limit"]
    docs = docs[:query["limit"]]
    return docs, (docs[-1]["_id"] if more and docs else None)


def batches(store, survey, query):
    """Every matching response, a batch at a time, from one server cursor (constant memory however many there
    are; one pass over the collection, where page after page would filter it again for each page). In the
    order the server keeps them: sorting would make the server hold every answer before the first row."""
    found = rules.response_filter(survey["_id"], query, survey["questions"])
    batch = []
    for doc in store.responses.find(found, PROJECTION, batch_size=BATCH):
        batch.append(doc)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch
