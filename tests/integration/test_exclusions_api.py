"""The exclusions API (issue 16) end to end through the real RabbitMQ and MongoDB: survey app → outbox →
worker → gateway, and `manyi check` (scoring's invariant) after each change."""
import pytest

from gateway.app import create_app as create_gateway
from services.scoring.rescore import check
from shared.domain import period_of, utcnow
from tests.api import FlaskApi, ok, setup_survey
from tests.harness import poll

QUESTIONS = [{"id": "q1", "type": "rating5", "text": "市场监管局", "department": "market", "required": True},
             {"id": "q2", "type": "rating5", "text": "税务局", "department": "tax", "required": True}]


@pytest.fixture
def county(config, survey_app, worker):
    survey, admin = FlaskApi(survey_app), config.admin_key
    survey_id, tokens, ents = setup_survey(survey, admin, QUESTIONS, departments=("market", "tax"),
                                           period=period_of(utcnow()))
    answers = {e["code"]: ok(survey("POST", "/api/v1/responses", None,
                                    {"token": tokens[e["code"]], "answers": {"q1": level, "q2": 4}}), 202)["response_id"]
               for e, level in zip(ents, (5, 4, 1))}
    cadre = ok(survey("POST", "/api/v1/keys", admin, {"role": "cadre", "name": "干部"}), 201)["key"]
    visit = ok(survey("POST", "/api/v1/visits", cadre, {"enterprise": ents[0]["code"], "visited_at": utcnow().isoformat(),
                                                        "ratings": [{"department": "tax", "level": 2}], "demands": []}), 202)
    poll(lambda: worker.processed.count_documents({}) >= 6, what="answers, visit and departments applied")
    return {"survey": survey, "gateway": FlaskApi(create_gateway(config)), "admin": admin, "cadre": cadre,
            "answers": [answers[e["code"]] for e in ents], "visit": visit["visit_id"], "scores": worker,
            "config": config, "period": period_of(utcnow())}


def department(c, code):
    reply = ok(c["gateway"]("GET", f"/api/v1/indices?period={c['period']}", c["admin"]), 200)
    return next(d for d in reply["departments"] if d["code"] == code)


def applied(c, exclusion, version):
    poll(lambda: c["scores"].exclusions.find_one({"_id": exclusion["id"], "version": version}),
         what=f"exclusion {exclusion['id']} version {version} applied")


def test_exclude_and_restore_over_http_change_the_figures_and_check_stays_clean(county):
    c = county
    admin, survey = c["admin"], c["survey"]
    before = department(c, "market")
    assert (before["n"], before["levels"], before["excluded"]) == (3, None, None)  # withheld below MANYI_MIN_N 5
    exclusion = ok(survey("POST", "/api/v1/exclusions", admin,
                          {"target": f"response:{c['answers'][2]}/q1", "reason": "经核实为误评"}), 201)
    assert exclusion["active"] and exclusion["ratings"] == [{"index": 0, "question": "q1", "department": "market"}]
    assert exclusion["by"]["role"] == "admin" and "enterprise" not in exclusion
    applied(c, exclusion, 1)
    assert department(c, "market")["n"] == 2  # the third enterprise's only market rating is left out
    stats = c["scores"].aggregates.find_one({"period": c["period"], "department": "market"})
    assert next(e for e in stats["scopes"] if e["scope"] == ["all"])["excluded"] == 1
    assert check(c["config"], out=lambda line: None) == 0

    assert survey("POST", "/api/v1/exclusions", admin, {"target": f"response:{c['answers'][2]}/q1",
                                                         "reason": "again"}).status == 409
    listed = ok(survey("GET", "/api/v1/exclusions?department=market&active=true", admin), 200)
    assert [e["id"] for e in listed["exclusions"]] == [exclusion["id"]] and listed["total"] == 1
    assert ok(survey("GET", "/api/v1/exclusions?department=tax", admin), 200)["total"] == 0
    other = ok(survey("POST", "/api/v1/exclusions", admin, {"target": f"response:{c['answers'][0]}", "reason": "整份无效"}), 201)
    first = survey("GET", "/api/v1/exclusions?per_page=1", admin)
    assert [e["id"] for e in first.json["exclusions"]] == [other["id"]] and first.json["total"] == 2  # newest first
    assert 'page=2&per_page=1>; rel="next"' in first.headers["Link"]
    assert ok(survey("GET", f"/api/v1/exclusions?period={c['period'][:4]}&active=true", admin), 200)["total"] == 2
    ok(survey("DELETE", f"/api/v1/exclusions/{other['id']}?reason=误操作", admin), 200)
    applied(c, other, 2)

    restored = ok(survey("DELETE", f"/api/v1/exclusions/{exclusion['id']}?reason=复核后恢复", admin), 200)
    assert (restored["active"], restored["restore_reason"]) == (False, "复核后恢复")
    applied(c, exclusion, 2)
    assert department(c, "market") == before
    assert check(c["config"], out=lambda line: None) == 0
    assert survey("DELETE", f"/api/v1/exclusions/{exclusion['id']}?reason=x", admin).status == 409


def test_a_whole_visit_is_excluded_and_bad_targets_are_refused(county):
    c = county
    admin, survey = c["admin"], c["survey"]
    whole = ok(survey("POST", "/api/v1/exclusions", admin, {"target": f"visit:{c['visit']}", "reason": "走访记录不实"}), 201)
    assert whole["whole"] and whole["departments"] == ["tax"] and whole["channel"] == "visit"
    applied(c, whole, 1)
    assert check(c["config"], out=lambda line: None) == 0
    refused = {
        "response:unknown": 404, f"response:{c['answers'][0]}/q9": 404, f"visit:{c['visit']}/market": 404,
        f"visit:{c['visit']}/tax": 409, "answer:abc": 400, f"response:{c['answers'][0]}/": 400,
    }
    for target, status in refused.items():
        reply = survey("POST", "/api/v1/exclusions", admin, {"target": target, "reason": "x"})
        assert reply.status == status and "target" in reply.json["errors"], (target, reply)
    assert survey("POST", "/api/v1/exclusions", admin, {"target": f"visit:{c['visit']}"}).status == 400  # no reason
    assert survey("DELETE", "/api/v1/exclusions/nope?reason=x", admin).status == 404
    assert survey("DELETE", f"/api/v1/exclusions/{whole['id']}", admin).status == 400  # no reason
    for method, path in (("GET", "/api/v1/exclusions"), ("POST", "/api/v1/exclusions")):
        assert survey(method, path, c["cadre"], {"target": f"visit:{c['visit']}", "reason": "x"}).status == 403
