"""Appeals (申诉复核) through the real RabbitMQ and MongoDB: a department appeals a 差评 given to it, the admin
decides; the demand, the exclusion, the events and the audit log follow in one unit of work (issue 16)."""
import io
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import timedelta

import pytest
from openpyxl import load_workbook

from gateway.app import create_app as create_gateway
from services.scoring.rescore import check
from services.survey.demands import ledger
from shared.domain import period_of, utcnow
from tests.api import FlaskApi, ok, setup_survey
from tests.harness import poll

PERIOD = period_of(utcnow())
QUESTIONS = [{"id": "q1", "type": "rating5", "text": "您对市场监管局的服务是否满意？", "department": "market",
              "required": True},
             {"id": "q2", "type": "rating5", "text": "您对税务局的服务是否满意？", "department": "tax"}]


@pytest.fixture
def county(config, survey_app, worker):
    survey, admin = FlaskApi(survey_app), config.admin_key
    _, tokens, ents = setup_survey(survey, admin, QUESTIONS, departments=("market", "tax"), period=PERIOD)
    keys = {name: ok(survey("POST", "/api/v1/keys", admin, {"role": role, "name": name, **extra}), 201)["key"]
            for name, role, extra in (("市场监管局", "department", {"department": "market"}),
                                      ("税务局", "department", {"department": "tax"}), ("干部", "cadre", {}))}
    # min_n 1: the gateway shows a department's figures from one enterprise, so the tests can read them move
    return {"app": survey_app, "survey": survey, "gateway": FlaskApi(create_gateway(replace(config, min_n=1))),
            "admin": admin, "config": config,
            "market": keys["市场监管局"], "tax": keys["税务局"], "cadre": keys["干部"], "ents": ents, "tokens": tokens,
            "scores": worker, "store": survey_app.extensions["manyi"].store}


def answer(c, ent, answers, **extra):
    return ok(c["survey"]("POST", "/api/v1/responses", None,
                          {"token": c["tokens"][ent["code"]], "answers": answers, **extra}), 202)["response_id"]


def bad_demand(c, response_id, question="q1"):
    (demand,) = c["store"].demands.find({"source.id": response_id, "source.question": question})
    return demand


def appeal(c, demand_id, key=None, reason="企业反映的问题属其他部门职责，系误评"):
    return c["survey"]("POST", "/api/v1/appeals", key or c["market"], {"demand": demand_id, "reason": reason})


def test_an_appeal_within_the_window_and_one_per_rating(county):
    c = county
    ent = c["ents"][0]
    response_id = answer(c, ent, {"q1": 1, "q2": 5})
    demand = bad_demand(c, response_id)
    filed = ok(appeal(c, demand["_id"]), 201)
    assert filed["status"] == "pending" and filed["demand"] == demand["_id"] and filed["department"] == "market"
    assert filed["rating"]["level"] == 1 and filed["rating"]["subject"] == QUESTIONS[0]["text"]
    # one appeal per rating, by the same department or anyone
    second = appeal(c, demand["_id"], reason="再次申诉")
    assert second.status == 409 and "每条差评只能申诉一次" in second.json["errors"]["demand"][0]
    assert c["store"].appeals.count_documents({}) == 1
    # the demand carries the pending appeal, and its event says so to scoring
    stored = c["store"].demands.find_one({"_id": demand["_id"]})
    assert stored["appeal_pending"] is True and stored["history"][-1]["action"] == "appeal"
    poll(lambda: (c["scores"].demands.find_one({"_id": demand["_id"]}) or {}).get("appeal_pending") is True,
         what="the pending appeal in scoring's demand state")
    poll(lambda: c["scores"].processed.find_one({"_id": f"{filed['id']}:pending"}), what="appeal.filed consumed")


def test_appeals_of_one_rating_at_the_same_moment_make_one(county):
    c = county
    demand = bad_demand(c, answer(c, c["ents"][0], {"q1": 1}))
    with ThreadPoolExecutor(4) as pool:
        statuses = sorted(pool.map(lambda _: FlaskApi(c["app"])("POST", "/api/v1/appeals", c["market"], {
            "demand": demand["_id"], "reason": "同时提交"}).status, range(4)))
    assert statuses == [201, 409, 409, 409]
    assert c["store"].appeals.count_documents({}) == 1
    assert c["store"].audit.count_documents({"action": "appeal.file"}) == 1
    assert c["store"].demands.find_one({"_id": demand["_id"]})["version"] == demand["version"] + 1


def test_after_the_window_an_appeal_is_refused(county):
    c = county
    response_id = answer(c, c["ents"][0], {"q1": 2})
    demand = bad_demand(c, response_id)
    # the 差评 arrived three weeks ago: more than 5 working days whatever the holidays
    c["store"].demands.update_one({"_id": demand["_id"]}, {"$set": {"received_at": utcnow() - timedelta(days=21)}})
    late = appeal(c, demand["_id"])
    assert late.status == 409 and "申诉期限已过" in late.json["errors"]["demand"][0]
    assert c["store"].appeals.count_documents({}) == 0 and c["store"].audit.count_documents({"action": "appeal.file"}) == 0


def test_a_department_cannot_appeal_another_ones_rating_nor_see_an_anonymous_rater(county):
    c = county
    ent = c["ents"][0]
    response_id = answer(c, ent, {"q1": 1, "q2": 1})  # contact_ok defaults to false: anonymous to departments
    market, tax = bad_demand(c, response_id, "q1"), bad_demand(c, response_id, "q2")
    refused = appeal(c, tax["_id"])  # the market key, on the tax department's 差评
    assert refused.status == 403 and c["store"].appeals.count_documents({}) == 0
    assert appeal(c, market["_id"], key=c["admin"]).status == 403  # departments appeal, the admin decides
    assert appeal(c, "nope").status == 404
    filed = ok(appeal(c, market["_id"]), 201)
    for reply in (ok(c["survey"]("GET", f"/api/v1/appeals/{filed['id']}", c["market"]), 200),
                  ok(c["survey"]("GET", "/api/v1/appeals", c["market"]), 200)["appeals"][0]):
        assert reply["rating"]["anonymous"] is True and reply["rating"]["enterprise"] is None
        text = repr(reply)
        assert ent["code"] not in text and ent["name"] not in text and response_id not in text
    assert c["survey"]("GET", f"/api/v1/appeals/{filed['id']}", c["tax"]).status == 403
    assert ok(c["survey"]("GET", "/api/v1/appeals", c["tax"]), 200)["total"] == 0
    assert c["survey"]("GET", "/api/v1/appeals?department=market", c["tax"]).status == 403
    admin_view = ok(c["survey"]("GET", f"/api/v1/appeals/{filed['id']}", c["admin"]), 200)
    assert admin_view["rating"]["enterprise"] == ent["code"]
    # the events never carry the enterprise
    messages = [r["message"] for r in c["store"].outbox.find({"routing_key": {"$regex": "^appeal"}})]
    assert messages and ent["code"] not in repr(messages) and response_id not in repr(messages)


def market_figures(c):
    return next(d for d in ok(c["gateway"]("GET", f"/api/v1/indices?period={PERIOD}", c["admin"]), 200)["departments"]
                if d["code"] == "market")


def test_upheld_closes_the_demand_as_申诉成立_and_excludes_the_rating(county):
    c = county
    response_id = answer(c, c["ents"][0], {"q1": 1})  # market 0 points
    answer(c, c["ents"][1], {"q1": 5})                # market 100 points
    demand = bad_demand(c, response_id)
    before = poll(lambda: (f := market_figures(c))["n"] == 2 and f, what="both answers in the figures")
    assert before["index"] == 50 and before["excluded"] == 0
    filed = ok(appeal(c, demand["_id"]), 201)
    assert c["survey"]("POST", f"/api/v1/appeals/{filed['id']}/decide", c["market"], {"decision": "upheld"}).status == 403
    decided = ok(c["survey"]("POST", f"/api/v1/appeals/{filed['id']}/decide", c["admin"],
                             {"decision": "upheld", "note": "经核实，该事项不属本单位职责"}), 200)
    assert decided["status"] == "upheld" and decided["demand_status"] == "closed" and decided["exclusion"]
    again = c["survey"]("POST", f"/api/v1/appeals/{filed['id']}/decide", c["admin"], {"decision": "rejected"})
    assert again.status == 409
    closed = ok(c["survey"]("GET", f"/api/v1/demands/{demand['_id']}", c["admin"]), 200)
    assert (closed["status"], closed["closure"], closed["appeal_pending"]) == ("closed", "appeal_upheld", False)
    assert closed["history"][-1]["action"] == "appeal_upheld"
    sheet = c["survey"]("GET", "/api/v1/demands/ledger.xlsx?category=bad_rating", c["market"])
    row = next(r for r in load_workbook(io.BytesIO(sheet.raw)).active.iter_rows(values_only=True) if r[0] == demand["_id"])
    assert row[6] == "已销号（申诉成立）" and "申诉（市场监管局）" in row[13] and "申诉成立（" in row[13]
    exclusion = c["store"].exclusions.find_one({"_id": decided["exclusion"]})
    assert exclusion["target"] == f"response:{response_id}/q1" and exclusion["appeal"] == filed["id"]
    assert exclusion["active"] is True and [r["question"] for r in exclusion["ratings"]] == ["q1"]
    # scoring hears the closed demand and the exclusion
    poll(lambda: (c["scores"].demands.find_one({"_id": demand["_id"]}) or {}).get("closure") == "appeal_upheld",
         what="the demand closed as 申诉成立 in scoring")
    poll(lambda: c["scores"].processed.find_one({"type": "rating.excluded"}), what="rating.excluded consumed")
    after = poll(lambda: (f := market_figures(c))["n"] == 1 and f, what="the rating out of the figures")
    assert after["index"] == 100 and after["excluded"] == 1 and after["levels"]["1"] == 0
    assert check(c["config"], PERIOD, out=lambda line: None) == 0  # stored aggregates == a recomputation
    stats = {d["code"]: d for d in ok(c["gateway"]("GET", f"/api/v1/demands/stats?period={PERIOD}", c["admin"]),
                                      200)["departments"]}
    assert stats["market"]["open"] == 0 and stats["market"]["overdue"] == 0
    audited = {(e["action"], e["target"]) for e in c["store"].audit.find({"actor.role": {"$ne": "admin"}}, {"_id": 0})}
    assert audited == {("appeal.file", f"appeal:{filed['id']}")}
    by_admin = {e["action"]: e for e in c["store"].audit.find({"action": {"$in": ["appeal.decide", "exclusion.create"]}})}
    assert by_admin["appeal.decide"]["why"] == "经核实，该事项不属本单位职责"
    assert by_admin["appeal.decide"]["details"]["decision"] == "upheld"
    assert by_admin["exclusion.create"]["target"] == f"response:{response_id}/q1"


def test_rejected_changes_nothing_and_the_clock_runs_on(county):
    c = county
    response_id = answer(c, c["ents"][0], {"q1": 2})
    demand = bad_demand(c, response_id)
    filed = ok(appeal(c, demand["_id"]), 201)
    decided = ok(c["survey"]("POST", f"/api/v1/appeals/{filed['id']}/decide", c["admin"],
                             {"decision": "rejected", "note": "证据不足"}), 200)
    assert decided["status"] == "rejected" and decided["exclusion"] is None
    after = c["store"].demands.find_one({"_id": demand["_id"]})
    assert (after["status"], after["deadline"], after["appeal_pending"]) == ("assigned", demand["deadline"], False)
    assert c["store"].exclusions.count_documents({}) == 0
    listed = ok(c["survey"]("GET", "/api/v1/appeals?status=rejected", c["admin"]), 200)
    assert [a["id"] for a in listed["appeals"]] == [filed["id"]] and listed["total"] == 1
    assert ok(c["survey"]("GET", "/api/v1/appeals?status=pending", c["admin"]), 200)["total"] == 0
    for period, n in ((PERIOD, 1), (PERIOD[:4], 1), (f"{int(PERIOD[:4]) - 1}", 0)):
        assert ok(c["survey"]("GET", f"/api/v1/appeals?period={period}", c["admin"]), 200)["total"] == n
    assert ok(c["survey"]("GET", "/api/v1/appeals?department=tax", c["admin"]), 200)["total"] == 0
    assert c["survey"]("GET", "/api/v1/appeals?period=2026Q5", c["admin"]).status == 400


def test_a_pending_appeal_is_not_overdue_in_the_ledger_the_sweep_or_the_figures(county):
    c = county
    services = c["app"].extensions["manyi"]
    late, other = (bad_demand(c, answer(c, ent, {"q1": 1})) for ent in c["ents"][:2])
    past = (utcnow() - timedelta(hours=1)).isoformat()
    for demand in (late, other):  # a paper ledger entered late: the admin sets a deadline already past
        ok(c["survey"]("POST", f"/api/v1/demands/{demand['_id']}/assign", c["admin"],
                       {"department": "market", "deadline": past}), 200)

    def gateway_overdue(n):
        stats = ok(c["gateway"]("GET", f"/api/v1/demands/stats?period={PERIOD}", c["admin"]), 200)
        return next(d for d in stats["departments"] if d["code"] == "market")["overdue"] == n
    poll(lambda: gateway_overdue(2), what="both demands overdue at the gateway")
    ok(appeal(c, late["_id"]), 201)
    assert ledger.sweep_overdue(services) == 1  # only the one without an appeal is pushed
    assert c["store"].outbox.find_one({"_id": f"overdue:{other['_id']}"})
    assert not c["store"].outbox.find_one({"_id": f"overdue:{late['_id']}"})
    overdue = ok(c["survey"]("GET", "/api/v1/demands?overdue=true", c["admin"]), 200)
    assert [d["id"] for d in overdue["demands"]] == [other["_id"]]
    not_overdue = ok(c["survey"]("GET", "/api/v1/demands?overdue=false", c["admin"]), 200)
    assert [d["id"] for d in not_overdue["demands"]] == [late["_id"]]
    assert ok(c["survey"]("GET", f"/api/v1/demands/{late['_id']}", c["admin"]), 200)["overdue"] is False
    poll(lambda: gateway_overdue(1), what="the appealed demand no longer overdue at the gateway")
    # rejected: the clock ran on, so it is overdue again everywhere
    ok(c["survey"]("POST", f"/api/v1/appeals/{appeal_id(c, late)}/decide", c["admin"],
                   {"decision": "rejected"}), 200)
    poll(lambda: gateway_overdue(2), what="overdue again after the rejection")
    assert ledger.sweep_overdue(services) == 1


def appeal_id(c, demand):
    return c["store"].appeals.find_one({"demand": demand["_id"]})["_id"]


def test_a_visit_rating_appealed_and_upheld_excludes_the_visits_rating_of_the_department(county):
    c = county
    visit = ok(c["survey"]("POST", "/api/v1/visits", c["cadre"], {
        "enterprise": c["ents"][0]["code"], "visited_at": utcnow().isoformat(), "demands": [],
        "ratings": [{"department": "market", "level": 1, "comment": "多次跑腿"}, {"department": "tax", "level": 5}]}),
        202)
    (demand_id,) = visit["bad_rating_demand_ids"]
    filed = ok(appeal(c, demand_id), 201)
    assert filed["rating"]["kind"] == "visit" and filed["rating"]["comment"] == "多次跑腿"
    assert filed["rating"]["subject"] == "部门market" and filed["rating"]["enterprise"] is None
    decided = ok(c["survey"]("POST", f"/api/v1/appeals/{filed['id']}/decide", c["admin"], {"decision": "upheld"}), 200)
    exclusion = c["store"].exclusions.find_one({"_id": decided["exclusion"]})
    assert exclusion["target"] == f"visit:{visit['visit_id']}/market" and exclusion["departments"] == ["market"]
