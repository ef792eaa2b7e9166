"""Respondent privacy through the real RabbitMQ and MongoDB (issue 12): who may see a 差评's enterprise, and the
release (通报) of a period's figures to portals. Survey app → worker thread → gateway, in-process."""
import io
import json
import threading

import pytest
from openpyxl import load_workbook

from gateway.app import create_app as create_gateway
from services.scoring.consumer import Consumer
from services.scoring.health import Health
from services.scoring.repository import ScoresStore
from services.survey import create_app
from shared.domain import period_of, utcnow
from tests.api import FlaskApi, ok, setup_survey
from tests.factories import enterprise
from tests.harness import poll

PERIOD = period_of(utcnow())
QUESTIONS = [{"id": "q1", "type": "rating5", "text": "您对市场监管局的服务是否满意？", "department": "market",
              "required": True},
             {"id": "q2", "type": "rating5", "text": "您对税务局的服务是否满意？", "department": "tax",
              "indicator": "tax-service"}]


@pytest.fixture
def county(config):
    app = create_app(config, background=False)
    survey, admin = FlaskApi(app), config.admin_key
    ents = [enterprise() for _ in range(13)]
    _, tokens, ents = setup_survey(survey, admin, QUESTIONS, enterprises=ents, departments=("market", "tax"),
                                   period=PERIOD)
    store = ScoresStore(config)
    store.ensure_indexes()
    consumer = Consumer(config, store, Health())
    thread = threading.Thread(target=consumer.run, daemon=True)
    thread.start()
    keys = {role: ok(survey("POST", "/api/v1/keys", admin, {"role": role, "name": role, **extra}), 201)["key"]
            for role, extra in (("cadre", {}), ("market", {"role": "department", "department": "market"}),
                                ("portal", {}))}
    yield {"app": app, "survey": survey, "gateway": FlaskApi(create_gateway(config)), "admin": admin, "keys": keys,
           "ents": ents, "tokens": tokens, "scores": store}
    consumer.stopping = True
    thread.join(10)
    app.extensions["manyi"].outbox.stop()


def answer(c, ent, answers, **extra):
    return ok(c["survey"]("POST", "/api/v1/responses", None,
                          {"token": c["tokens"][ent["code"]], "answers": answers, **extra}), 202)["response_id"]


def bad_rating_of(c, key, source_question="q1"):
    demands = ok(c["survey"]("GET", "/api/v1/demands?department=market&category=bad_rating", key), 200)["demands"]
    return [d for d in demands if d["source"].get("question") == source_question]


def ledger_text(c, key):
    reply = c["survey"]("GET", "/api/v1/demands/ledger.xlsx?department=market", key)
    assert reply.status == 200
    book = load_workbook(io.BytesIO(reply.raw))
    return "\n".join(str(v) for row in book.active.iter_rows(values_only=True) for v in row if v is not None)


def identities(ent, response_id):
    return [ent["code"], ent["name"], response_id]


# --- 差评 identity --------------------------------------------------------------------------------------
def test_a_department_never_learns_who_gave_an_anonymous_bad_rating(county):
    c = county
    ent = c["ents"][0]
    response_id = answer(c, ent, {"q1": 1})  # contact_ok defaults to false
    dept, admin = c["keys"]["market"], c["admin"]
    (listed,) = bad_rating_of(c, dept)
    one = ok(c["survey"]("GET", f"/api/v1/demands/{listed['id']}", dept), 200)
    for seen in (json.dumps(listed, ensure_ascii=False), json.dumps(one, ensure_ascii=False), ledger_text(c, dept)):
        for secret in identities(ent, response_id):
            assert secret not in seen
    # what the department needs to rectify: the text, the question, the deadline
    assert one["anonymous"] is True and one["enterprise"] is None
    assert "您对市场监管局的服务是否满意" in one["text"] and one["source"]["question"] == "q1" and one["deadline"]
    assert "匿名" in ledger_text(c, dept)
    # the department still works it: its own steps come back without the identity too
    done = ok(c["survey"]("POST", f"/api/v1/demands/{listed['id']}/resolve", dept, {"resolution": "已整改"}), 200)
    assert ent["code"] not in json.dumps(done, ensure_ascii=False) and response_id not in json.dumps(done)
    # the administrator, who makes the callback, always sees who it was
    full = ok(c["survey"]("GET", f"/api/v1/demands/{listed['id']}", admin), 200)
    assert full["enterprise"] == ent["code"] and full["source"]["id"] == response_id and full["anonymous"] is False
    assert ent["name"] in ledger_text(c, admin)


def test_with_consent_the_department_sees_the_enterprise(county):
    c = county
    ent = c["ents"][1]
    response_id = answer(c, ent, {"q1": 2}, contact_ok=True)
    (listed,) = bad_rating_of(c, c["keys"]["market"])
    assert listed["enterprise"] == ent["code"] and listed["source"]["id"] == response_id
    assert listed["contact_ok"] is True and listed["anonymous"] is False
    assert ent["name"] in ledger_text(c, c["keys"]["market"])


def test_the_no_script_form_carries_the_consent(county):
    c = county
    client = c["app"].test_client()
    yes, no = c["ents"][2], c["ents"][3]
    page = client.get(f"/s/{c['tokens'][yes['code']]}").get_data(as_text=True)
    assert "实名回访" in page and 'name="contact_ok"' in page and "不会知道是哪家企业" in page
    assert client.post(f"/s/{c['tokens'][yes['code']]}", data={"q1": "1", "contact_ok": "yes"}).status_code == 200
    assert client.post(f"/s/{c['tokens'][no['code']]}", data={"q1": "1", "contact_ok": "no"}).status_code == 200
    seen = {d["enterprise"] for d in bad_rating_of(c, c["keys"]["market"])}
    assert seen == {yes["code"], None}


def test_a_visit_asks_per_rating_and_the_enterprises_own_demands_keep_its_identity(county):
    c = county
    ent = c["ents"][4]
    body = {"enterprise": ent["code"], "visited_at": utcnow().isoformat(),
            "ratings": [{"department": "market", "level": 1, "comment": "检查太多"},
                        {"department": "tax", "level": 2, "contact_ok": True}],
            "demands": [{"department": "market", "category": "融资", "text": "贷款难"}]}
    done = ok(c["survey"]("POST", "/api/v1/visits", c["keys"]["cadre"], body), 202)
    dept = c["keys"]["market"]
    ok(c["survey"]("POST", f"/api/v1/demands/{done['demand_ids'][0]}/assign", c["admin"], {"department": "market"}), 200)
    mine = {d["category"]: d for d in ok(c["survey"]("GET", "/api/v1/demands?department=market", dept), 200)["demands"]}
    assert mine["融资"]["enterprise"] == ent["code"]  # it asked to be helped
    anonymous = mine["bad_rating"]
    assert anonymous["enterprise"] is None and "id" not in anonymous["source"] and "检查太多" in anonymous["text"]
    assert done["visit_id"] not in json.dumps(anonymous)
    # the exact moment would tie the 差评 to the named demand of the same visit: only the day is shown
    assert anonymous["received_at"] != mine["融资"]["received_at"]
    assert all(h["by"] == {"role": h["by"]["role"]} for h in anonymous["history"])
    tax = ok(c["survey"]("GET", f"/api/v1/demands/{done['bad_rating_demand_ids'][1]}", c["admin"]), 200)
    assert tax["contact_ok"] is True and tax["enterprise"] == ent["code"]


# --- release (通报) ------------------------------------------------------------------------------------
READS = ["/api/v1/indices?period={p}", "/api/v1/departments/market/index?period={p}",
         "/api/v1/departments/market/segments?period={p}&by=scale", "/api/v1/segments/gaps?period={p}&by=capital",
         "/api/v1/nps?period={p}", "/api/v1/demands/stats?period={p}", "/api/v1/reports/{p}.xlsx"]


def release(c):
    return ok(c["survey"]("POST", f"/api/v1/periods/{PERIOD}/release", c["admin"]), 202)


def indices(c, key, extra=""):
    return ok(c["gateway"]("GET", f"/api/v1/indices?period={PERIOD}{extra}", key), 200)


def test_portals_see_a_period_only_once_released_and_then_stay_put_until_the_next_release(county):
    c = county
    portal, admin = c["keys"]["portal"], c["admin"]
    first, late = c["ents"][:6], c["ents"][6:]
    for i, ent in enumerate(first):
        answer(c, ent, {"q1": 3 + i % 3, "q2": 5})
    live = poll(lambda: (lambda r: r if r["departments"][0]["n"] == 6 else None)(indices(c, admin)), what="6 answers")
    assert live["released"] is False and live["release"] is None
    for path in READS:
        refused = c["gateway"]("GET", path.format(p=PERIOD), portal)
        assert refused.status == 404 and "尚未通报发布" in json.dumps(refused.json, ensure_ascii=False), path
    assert ok(c["gateway"]("GET", "/api/v1/periods", portal), 200) == {"periods": [], "releases": []}

    assert release(c)["release"] == 1
    at_release = indices(c, admin)
    shown = poll(lambda: (lambda r: r.json if r.status == 200 else None)(
        c["gateway"]("GET", f"/api/v1/indices?period={PERIOD}", portal)), what="the release reaching the gateway")
    assert shown["released"] is True and shown["release"] == 1
    assert shown["departments"] == at_release["departments"]
    for path in READS:
        assert c["gateway"]("GET", path.format(p=PERIOD), portal).status == 200, path
    periods = ok(c["gateway"]("GET", "/api/v1/periods", portal), 200)
    assert periods["periods"] == [PERIOD] and periods["releases"][0]["release"] == 1

    for ent in late[:2]:  # late answers move the live figures, not the released ones
        answer(c, ent, {"q1": 1})
    poll(lambda: indices(c, admin)["departments"][0]["n"] == 8, what="the late answers, live")
    assert indices(c, portal)["departments"] == at_release["departments"]

    # Released again with only two enterprises changed, the market's figures would give their answers away
    # (release 2 minus release 1): the department is held at release 1 until MIN_N enterprises changed it.
    assert release(c)["release"] == 2
    second = poll(lambda: (lambda r: r if r["release"] == 2 else None)(indices(c, portal)), what="release 2")
    assert second["departments"] == at_release["departments"]
    state = next(r for r in ok(c["gateway"]("GET", "/api/v1/periods", admin), 200)["releases"] if r["period"] == PERIOD)
    assert state["release"] == 2 and state["held_back"]["departments"] == ["market"]
    assert "held_back" not in ok(c["gateway"]("GET", "/api/v1/periods", portal), 200)["releases"][0]
    for ent in late[2:]:
        answer(c, ent, {"q1": 2})
    poll(lambda: indices(c, admin)["departments"][0]["n"] == 13, what="five more late answers, live")
    assert release(c)["release"] == 3
    third = poll(lambda: (lambda r: r if r["release"] == 3 else None)(indices(c, portal)), what="release 3")
    assert third["departments"] == indices(c, admin)["departments"] and third["departments"][0]["n"] == 13
    again = indices(c, portal, "&release=1")
    assert again["release"] == 1 and again["departments"] == at_release["departments"]
    assert c["gateway"]("GET", f"/api/v1/indices?period={PERIOD}&release=4", portal).status == 404
    listed = ok(c["survey"]("GET", "/api/v1/periods", admin), 200)["periods"]
    assert [(p["period"], p["release"]) for p in listed] == [(PERIOD, 3)]


def test_only_an_admin_releases(county):
    c = county
    for role in ("portal", "cadre", "market"):
        assert c["survey"]("POST", f"/api/v1/periods/{PERIOD}/release", c["keys"][role]).status == 403
    bad = c["survey"]("POST", "/api/v1/periods/2026-4/release", c["admin"])
    assert bad.status == 400 and "period" in bad.json["errors"]
