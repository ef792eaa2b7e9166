"""Invitation tokens stored as digests (issue 11), against the real MongoDB server: no token anywhere in the
database after issuing, opening and answering; links still answer and still reprint (from the sealed copy,
in another process); old plaintext documents migrated at start, twice or after a kill; the console's
sign-in brake counted across app instances."""
import io
from concurrent.futures import ThreadPoolExecutor

import pytest
import zxingcpp
from openpyxl import load_workbook
from PIL import Image
from pymongo import MongoClient

from services.survey.invitations.migration import MARKER, hash_stored_tokens
from services.survey.invitations.tokens import invitation_id
from tests.api import FlaskApi, ok, setup_survey
from tests.factories import enterprise
from tests.harness import poll

QUESTIONS = [{"id": "q1", "type": "rating5", "text": "服务", "department": "market", "required": True}]
ORIGIN = {"Origin": "http://localhost"}


def every_document(config, client):
    """(database, collection, document) of every database the processes write."""
    for name in (config.survey_db, config.scores_db, config.gateway_db, config.webhooks_db):
        db = client[name]
        for collection in db.list_collection_names():
            for doc in db[collection].find({}):
                yield name, collection, doc


def holding(config, client, tokens):
    """The documents where any of `tokens` appears (in any field, key or value)."""
    return [(db, coll, doc["_id"]) for db, coll, doc in every_document(config, client)
            if any(t in repr(doc) for t in tokens)]


def decode(png_bytes):
    return [b.text for b in zxingcpp.read_barcodes(Image.open(io.BytesIO(png_bytes)))]


@pytest.fixture
def county(survey_app, config):
    api = FlaskApi(survey_app)
    survey_id, tokens, ents = setup_survey(api, config.admin_key, QUESTIONS,
                                           enterprises=[enterprise() for _ in range(3)])
    return {"api": api, "survey_id": survey_id, "tokens": tokens, "ents": ents, "admin": config.admin_key}


def answered_and_opened(app, county):
    """The first enterprise answers (after opening its page), the second only opens its page."""
    first, second = (county["tokens"][e["code"]] for e in county["ents"][:2])
    client = app.test_client()
    assert client.get(f"/s/{first}").status_code == 200
    assert client.get(f"/s/{second}").status_code == 200
    return ok(county["api"]("POST", "/api/v1/responses", body={"token": first, "answers": {"q1": 4}}), 202)


def listed(api, admin, survey_id):
    reply = ok(api("GET", f"/api/v1/surveys/{survey_id}/invitations", admin), 200)
    return {row["enterprise"]: row for row in reply["invitations"]}


def test_no_token_is_stored_anywhere_yet_links_answer_and_reprint(survey_app, make_survey_app, config, county,
                                                                   worker):
    answered_and_opened(survey_app, county)
    store = survey_app.extensions["manyi"].store
    # the answer's message reached the scoring worker's database too: that is scanned as well
    poll(lambda: store.client[config.scores_db].ratings.count_documents({}) == 1, what="the rating to be scored")
    tokens = list(county["tokens"].values())
    assert store.invitations.count_documents({}) == 3 and store.invitation_events.count_documents({}) == 2
    assert store.responses.count_documents({}) == 1
    assert holding(config, store.client, tokens) == []
    # the digest is the key: a backup gives the digests, which no link is made of
    assert {d["_id"] for d in store.invitations.find({})} == {invitation_id(t) for t in tokens}

    # Another process (a fresh app: nothing in memory) lists, exports and draws every link again.
    other = make_survey_app()
    api, admin, survey_id = FlaskApi(other), county["admin"], county["survey_id"]
    rows = listed(api, admin, survey_id)
    assert {code: row["token"] for code, row in rows.items()} == county["tokens"]
    assert all(row["url"] == f"{config.public_url}/s/{row['token']}" for row in rows.values())
    assert all(row["id"] == invitation_id(row["token"]) for row in rows.values())
    auth = {"Authorization": f"Bearer {admin}"}
    client = other.test_client()
    row = next(iter(rows.values()))
    for ref in (row["token"], row["id"]):  # the old route by token, and by the invitation's id
        png = client.get(f"/api/v1/invitations/{ref}/qr.png", headers=auth)
        assert png.status_code == 200 and decode(png.data) == [row["url"]]
    sheet = client.get(f"/api/v1/surveys/{survey_id}/invitations.xlsx?qr=false", headers=auth)
    lines = {r[1]: r[4] for r in load_workbook(io.BytesIO(sheet.data)).active.iter_rows(min_row=2, values_only=True)}
    assert lines == {code: row["url"] for code, row in rows.items()}
    # Asking again gives the same live links back (DESIGN §6), read from their sealed copies.
    again = ok(api("POST", f"/api/v1/surveys/{survey_id}/invitations", admin,
                   {"enterprises": list(county["tokens"])}), 201)["invitations"]
    assert {i["enterprise"]: i["token"] for i in again} == county["tokens"]
    assert holding(config, store.client, tokens) == []


def old_shape(store, county):
    """Rewrite the stored invitations, events and answer as the code before issue 11 wrote them: the token
    as the invitation's `_id`, in the event and in the answer. The second enterprise's invitation is left
    half-migrated (both shapes), as a start killed between the copy and the delete leaves it."""
    half = county["tokens"][county["ents"][1]["code"]]
    for token in county["tokens"].values():
        doc = store.invitations.find_one({"_id": invitation_id(token)})
        del doc["sealed"]
        store.invitations.insert_one({**doc, "_id": token})
        if token != half:
            store.invitations.delete_one({"_id": invitation_id(token)})
        for event in store.invitation_events.find({"invitation": invitation_id(token)}):
            store.invitation_events.delete_one({"_id": event["_id"]})
            del event["invitation"]
            store.invitation_events.insert_one({**event, "_id": f"{token}:opened", "token": token})
        store.responses.update_many({"invitation": invitation_id(token)},
                                    {"$set": {"token": token}, "$unset": {"invitation": ""}})
    store.db.migrations.delete_one({"_id": MARKER})


def test_plaintext_tokens_of_before_are_migrated_at_start_and_still_answer(survey_app, make_survey_app, config,
                                                                          county):
    response_id = answered_and_opened(survey_app, county)
    store = survey_app.extensions["manyi"].store
    tokens = list(county["tokens"].values())
    before = listed(county["api"], county["admin"], county["survey_id"])
    old_shape(store, county)
    assert len(holding(config, store.client, tokens)) == 3 + 2 + 1  # invitations, events, the answer

    restarted = make_survey_app()  # a new process: the migration runs before its first request
    api = FlaskApi(restarted)
    after = listed(api, county["admin"], county["survey_id"])
    assert holding(config, store.client, tokens) == []
    assert store.invitations.count_documents({}) == 3 and store.invitation_events.count_documents({}) == 2
    assert {c: (r["token"], r["url"], r["status"], r["opened_at"]) for c, r in after.items()} == {
        c: (r["token"], r["url"], r["status"], r["opened_at"]) for c, r in before.items()}
    # Same URLs: the answered one replays its answer and refuses another; the others still answer.
    first, second, third = (county["tokens"][e["code"]] for e in county["ents"])
    assert ok(api("POST", "/api/v1/responses", body={"token": first, "answers": {"q1": 4}}), 202) == response_id
    assert api("POST", "/api/v1/responses", body={"token": first, "answers": {"q1": 1}}).status == 409
    client = restarted.test_client()
    assert "您已提交过本问卷" in client.get(f"/s/{first}").get_data(as_text=True)
    assert client.get(f"/s/{third}").status_code == 200
    ok(api("POST", "/api/v1/responses", body={"token": second, "answers": {"q1": 5}}), 202)
    assert listed(api, county["admin"], county["survey_id"])[county["ents"][1]["code"]]["status"] == "answered"

    # Run again (another process starting, or a start after a kill): nothing left to change, nothing lost.
    store.db.migrations.delete_one({"_id": MARKER})
    assert hash_stored_tokens(store.db, config) == 0
    assert store.invitations.count_documents({}) == 3 and store.responses.count_documents({}) == 2
    assert holding(config, store.client, tokens) == []


def sign_in(app, key):
    return app.test_client().post("/console/login", data={"key": key}, headers=ORIGIN).status_code


def test_console_sign_in_failures_are_counted_across_processes(make_survey_app, config):
    """Wrong keys count once across app instances (each its own process in production): three wrong keys
    spread over two instances stop the fourth attempt on either, even with the right key."""
    a, b = make_survey_app(auth_failures=3), make_survey_app(auth_failures=3)
    assert [sign_in(a, "mk_wrong1"), sign_in(b, "mk_wrong2"), sign_in(a, "mk_wrong3")] == [401, 401, 401]
    assert sign_in(b, config.admin_key) == 429
    assert "尝试过于频繁" in b.test_client().post("/console/login", data={"key": config.admin_key},
                                              headers=ORIGIN).get_data(as_text=True)


def test_console_sign_in_attempts_are_limited_across_processes(make_survey_app, config):
    a, b = make_survey_app(rate_limit=4), make_survey_app(rate_limit=4)
    assert [sign_in(a, config.admin_key), sign_in(b, config.admin_key), sign_in(a, config.admin_key),
            sign_in(b, config.admin_key)] == [303, 303, 303, 303]
    assert sign_in(a, config.admin_key) == 429 and sign_in(b, config.admin_key) == 429


def test_the_access_log_holds_no_token(survey_app, county, caplog):
    token = county["tokens"][county["ents"][2]["code"]]
    client = survey_app.test_client()
    with caplog.at_level("INFO", logger="manyi.access"):
        assert client.get(f"/s/{token}").status_code == 200
        assert client.get(f"/api/v1/invitations/{token}/qr.svg",
                          headers={"Authorization": f"Bearer {county['admin']}"}).status_code == 200
    lines = [(r.getMessage(), r.path) for r in caplog.records if r.name == "manyi.access"]
    assert len(lines) == 2 and not any(token in text for line in lines for text in line)
    assert lines[0][1] == f"/s/~{invitation_id(token)[:12]}"  # the digest's start still finds the invitation


def test_two_processes_starting_at_once_migrate_once(survey_app, config, county):
    answered_and_opened(survey_app, county)
    store = survey_app.extensions["manyi"].store
    before = {d["_id"]: d["enterprise"] for d in store.invitations.find({})}
    old_shape(store, county)
    clients = [MongoClient(config.mongo_url, tz_aware=True) for _ in range(2)]  # as two processes have
    try:
        with ThreadPoolExecutor(2) as pool:
            runs = [pool.submit(hash_stored_tokens, client[config.survey_db], config) for client in clients]
            [run.result() for run in runs]  # neither fails
    finally:
        for client in clients:
            client.close()
    assert {d["_id"]: d["enterprise"] for d in store.invitations.find({})} == before
    assert store.invitation_events.count_documents({}) == 2
    assert store.responses.count_documents({"invitation": {"$exists": True}}) == 1
    assert holding(config, store.client, list(county["tokens"].values())) == []
