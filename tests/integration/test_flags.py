"""Suspicious-rating flags against the real MongoDB server: answers and visits through the API raise flags as they
arrive (the scheduler's scan), a generated county raises few false ones and finds every planted pattern."""
from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from services.survey.flags.use_cases import scan
from shared.domain import utcnow
from tests import planted
from tests.api import FlaskApi, ok, setup_survey
from tests.factories import enterprise
from tests.harness import poll

RATINGS = [{"id": f"q{i}", "type": "rating5", "text": f"第{i}项服务满意度", "department": d, "required": True}
           for i, d in enumerate(["market", "tax", "market", "tax", "market", "tax"], 1)]
QUESTIONS = RATINGS + [{"id": "q7", "type": "text", "text": "意见和建议"}]


def varied(i):
    return {q["id"]: 3 + (i + k) % 3 for k, q in enumerate(RATINGS)}


def from_address(ip):
    return {"X-Forwarded-For": ip}


@pytest.fixture
def running(make_survey_app, config):
    """A survey app with its scheduler scanning every second, behind one trusted proxy (so addresses differ)."""
    app = make_survey_app(background=True, proxy_hops=1, flag_scan_seconds=1,
                          flags=replace(config.flags, burst_max=3))
    return app, FlaskApi(app), config.admin_key


def flags_of(api, admin, query=""):
    return ok(api("GET", f"/api/v1/flags?per_page=1000{query}", admin), 200)["flags"]


def test_answers_and_visits_through_the_api_raise_flags_as_they_arrive(running):
    app, api, admin = running
    ents = [enterprise() for _ in range(8)]
    survey, tokens, _ = setup_survey(api, admin, QUESTIONS, ents, departments=("market", "tax"))
    token = [tokens[e["code"]] for e in ents]
    # Straight-lined: all six ratings 非常满意, from an address of its own, at an ordinary pace (no page view).
    ok(api("POST", "/api/v1/responses", None, {"token": token[0], "answers": {q["id"]: 5 for q in RATINGS}},
           headers=from_address("198.51.100.10")), 202)
    # A speeder: opens the page on a phone of its own (the page gives it a device id) and submits seven answers at once.
    phone = FlaskApi(app)
    page = phone("GET", f"/s/{token[1]}", headers=from_address("198.51.100.11"))
    assert page.status == 200 and "manyi_device=" in page.headers["Set-Cookie"]
    speeder = ok(phone("POST", "/api/v1/responses", None, {"token": token[1], "answers": {**varied(1), "q7": "好"}},
                     headers=from_address("198.51.100.11")), 202)["response_id"]
    # A burst: four answers from one address (more than the three this app allows within ten minutes).
    burst = [ok(api("POST", "/api/v1/responses", None, {"token": token[i], "answers": varied(i)},
                    headers=from_address("203.0.113.7")), 202)["response_id"] for i in range(2, 6)]
    # An ordinary answer, from an address of its own.
    calm = ok(api("POST", "/api/v1/responses", None, {"token": token[6], "answers": varied(6)},
                  headers=from_address("198.51.100.16")), 202)["response_id"]
    # A cadre records two visits to enterprises three minutes apart.
    cadre = ok(api("POST", "/api/v1/keys", admin, {"role": "cadre", "name": "李干部"}), 201)["key"]
    now = utcnow()
    visits = [ok(api("POST", "/api/v1/visits", cadre, {
        "enterprise": ents[i]["code"], "visited_at": (now - timedelta(minutes=10 - 3 * i)).isoformat(),
        "ratings": [{"department": "market", "level": 4}], "demands": []}), 202)["visit_id"] for i in range(2)]

    def all_raised():
        kinds = {f["kind"] for f in flags_of(api, admin)}
        return kinds >= {"straight_line", "speeder", "burst", "cadre_travel"} and kinds
    poll(all_raised, timeout=30, what="flags of every kind sent")
    flags = flags_of(api, admin)
    refs = {(f["kind"], r["id"]) for f in flags for r in f["refs"]}
    assert ("speeder", speeder) in refs and {("burst", b) for b in burst} <= refs
    assert ("cadre_travel", visits[1]) in refs and not any(r == calm for _, r in refs)
    straight = next(f for f in flags if f["kind"] == "straight_line")
    assert straight["figures"] == {"ratings": 6, "level": 5} and straight["thresholds"] == {"straight_min": 6}
    assert straight["survey"] == survey and straight["departments"] == ["market", "tax"] and "非常满意" in straight["reason"]
    burst_flag = next(f for f in flags if f["kind"] == "burst")
    assert burst_flag["figures"]["answers"] == 4 and burst_flag["thresholds"] == {"burst_max": 3, "burst_minutes": 10.0}
    assert datetime.fromisoformat(burst_flag["figures"]["from"]) <= datetime.fromisoformat(burst_flag["figures"]["to"])
    # Filters and the one way of paging.
    assert {f["kind"] for f in flags_of(api, admin, "&kind=burst")} == {"burst"}
    assert {f["kind"] for f in flags_of(api, admin, "&department=tax")} <= {"straight_line", "speeder", "burst"}
    assert flags_of(api, admin, "&survey=nope") == []
    assert flags_of(api, admin, f"&from={(now + timedelta(hours=1)).isoformat().replace('+00:00', 'Z')}") == []
    first = api("GET", "/api/v1/flags?per_page=2", admin)
    assert ok(first, 200)["total"] == len(flags) and 'rel="next"' in first.headers["Link"]
    # The answer keeps a salted hash of its address, never the address.
    db = app.extensions["manyi"].store.db
    stored = db.responses.find_one({"_id": calm})
    assert stored["client"] and "198.51.100.16" not in str(stored) and "device" not in stored
    cookie = page.headers["Set-Cookie"].split(";")[0].split("=", 1)[1]
    assert db.responses.find_one({"_id": speeder})["device"] not in (None, cookie)


def test_flags_are_for_admins_only_and_bad_queries_are_4xx(running, config):
    _, api, admin = running
    api("POST", "/api/v1/departments", admin, {"code": "market", "name": "市场监管局"})
    dept = ok(api("POST", "/api/v1/keys", admin, {"role": "department", "name": "d", "department": "market"}), 201)["key"]
    assert api("GET", "/api/v1/flags", dept).status == 403
    assert api("GET", "/api/v1/flags").status == 401
    for bad in ("kind=nope", "period=2026Q5", "from=yesterday", "page=0", "per_page=5000"):
        reply = api("GET", f"/api/v1/flags?{bad}", admin)
        assert reply.status in (400, 422) and "errors" in reply.json, bad


def test_an_ordinary_county_raises_under_one_percent_false_flags_and_a_second_look_raises_none(survey_app):
    services = survey_app.extensions["manyi"]
    services.ensure_indexes()
    county, _ = planted.ordinary_county(planted.random_of(16))
    flags = planted.load_and_scan(services, county)
    assert len(county.responses) > 1000 and len(county.visits) > 800
    answer_flags = [f for f in flags if f["refs"][0]["kind"] == "response"]
    visit_flags = [f for f in flags if f["refs"][0]["kind"] == "visit"]
    assert len(answer_flags) < 0.01 * len(county.responses), [f["reason"] for f in answer_flags]
    assert len(visit_flags) < 0.01 * len(county.visits), [f["reason"] for f in visit_flags]
    # Idempotent: looking again, even from the start, writes nothing.
    assert scan(services) == 0
    services.flags.state.delete_one({"_id": "watermark"})
    assert scan(services) == 0 and len(services.flags.all()) == len(flags)


def test_every_planted_pattern_is_found(survey_app):
    services = survey_app.extensions["manyi"]
    services.ensure_indexes()
    county, _ = planted.planted_county(planted.random_of(7), enterprises=900)
    tally = planted.tally(county, planted.load_and_scan(services, county))
    for kind, (planted_n, found, _) in tally.items():
        assert planted_n > 0 and found == planted_n, (kind, tally)
    assert sum(false for _, _, false in tally.values()) < 0.01 * len(county.responses), tally
