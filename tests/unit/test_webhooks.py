"""Webhooks' pure parts: signature, retry schedule, URL checks, and which events a message raises."""
import hashlib
import hmac
import json
import random
from datetime import UTC, datetime, timedelta

import pytest

from services.delivery import translate
from services.survey.demands import rules
from shared import egress, messages
from shared.webhooks import backoff, delivery_id, gives_up, seq_of, signature, verify

AT = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
TERMS = rules.Terms(7, 30, 15)
ADMIN = {"role": "admin", "name": "营商办"}


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body():
    body = b'{"type":"demand.assigned","data":{"department":"market"}}'
    expected = hmac.new(b"whsec_abc", b"1764150000." + body, hashlib.sha256).hexdigest()
    assert signature("whsec_abc", "1764150000", body) == "sha256=" + expected
    assert verify("whsec_abc", "1764150000", body, "sha256=" + expected)
    assert not verify("whsec_abc", "1764150001", body, "sha256=" + expected)  # another timestamp
    assert not verify("whsec_abd", "1764150000", body, "sha256=" + expected)  # another secret
    assert not verify("whsec_abc", "1764150000", body, None)


def test_delivery_ids_are_stable_per_event_and_subscription():
    assert delivery_id("e1", "wh_1") == delivery_id("e1", "wh_1")
    assert len({delivery_id("e1", "wh_1"), delivery_id("e1", "wh_2"), delivery_id("e2", "wh_1")}) == 3


def test_backoff_doubles_with_jitter_within_half_and_whole_and_is_capped():
    rng = random.Random(7)
    for attempts, whole in ((1, 10), (2, 20), (3, 40), (9, 2560), (10, 3600), (30, 3600)):
        for _ in range(50):
            delay = backoff(attempts, 10, 3600, rng)
            assert whole / 2 <= delay <= whole


def test_retries_cover_at_least_the_window_and_then_give_up():
    start, rng, now, attempts = AT, random.Random(1), AT, 0
    while True:
        attempts += 1
        delay = backoff(attempts, 10, 3600, rng)
        if gives_up(start, now, delay, 24):
            break
        now += timedelta(seconds=delay)
    assert now > start + timedelta(hours=23)  # the last try came within an hour (the cap) of the 24 h
    assert 25 <= attempts <= 60


@pytest.mark.parametrize("url, why", [
    ("ftp://example.org/x", "only http"),
    ("http:///nohost", "no host"),
    ("http://user:pw@example.org/", "credentials"),
    ("http://127.0.0.1:9000/hook", "loopback"),
    ("http://[::1]/hook", "loopback"),
    ("http://169.254.169.254/latest/meta-data/", "link-local"),
    ("http://100.100.100.200/latest/meta-data/", "metadata"),
    ("http://[::ffff:127.0.0.1]/", "loopback"),
    ("http://0.0.0.0/", "unicast"),
])
def test_refused_urls(url, why):
    problem = egress.url_problem(url, resolver=lambda host, port: [host.strip("[]")])
    assert problem and why in problem


def test_names_are_resolved_and_every_address_checked():
    assert "loopback" in egress.url_problem("http://sneaky.example/", resolver=lambda h, p: ["203.0.113.5", "127.0.0.1"])
    assert egress.url_problem("https://hotline.example/", resolver=lambda h, p: ["10.1.2.3"]) is None  # intranet
    assert egress.url_problem("http://127.0.0.1:9/", allow_private=True) is None
    assert "only http" in egress.url_problem("file:///etc/passwd", allow_private=True)


def test_localhost_really_resolves_to_loopback_and_is_refused():
    assert "loopback" in egress.url_problem("http://localhost:8080/")


# --- translation ------------------------------------------------------------------------------------------
def as_sent(message):
    return translate.decode(messages.encode(message))


def kinds(message):
    return [e["type"] for e in translate.translate(as_sent(message))]


def test_a_demands_life_raises_created_assigned_resolved_closed_and_nothing_for_a_progress_note():
    demand = rules.new_demand("d1", "market", "融资", "ordinary", "贷款难", AT, ADMIN, "E1", {"kind": "visit"})
    assert kinds(rules.updated_event(demand, created=True)) == ["demand.created"]
    steps = [(rules.assign(demand, "market", None, AT, ADMIN, TERMS), ["demand.assigned"])]
    demand = rules.apply(demand, steps[0][0])
    for make, expected in ((lambda d: rules.progress(d, "在办", AT, ADMIN), []),
                           (lambda d: rules.resolve(d, "已办", AT, ADMIN), ["demand.resolved"]),
                           (lambda d: rules.callback(d, 2, "不满意", AT, ADMIN, TERMS), ["demand.assigned"]),
                           (lambda d: rules.resolve(d, "再办", AT, ADMIN), ["demand.resolved"]),
                           (lambda d: rules.callback(d, 5, None, AT, ADMIN, TERMS), ["demand.closed"])):
        demand = rules.apply(demand, make(demand))
        events = translate.translate(as_sent(rules.updated_event(demand)))
        assert [e["type"] for e in events] == expected
        assert all(e["order_key"] == "demand:d1" for e in events)


def test_a_reopened_demand_says_so_and_a_bad_rating_demand_is_born_created_and_assigned():
    demand = rules.new_bad_rating("d2", "tax", "差评整改", AT, ADMIN, "E1", {"kind": "response"}, TERMS)
    events = translate.translate(as_sent(rules.updated_event(demand, created=True)))
    assert [e["type"] for e in events] == ["demand.created", "demand.assigned"]
    assert events[1]["data"]["reopened"] is False and events[1]["data"]["deadline"]
    assert "enterprise" not in json.dumps([e["data"] for e in events])


def test_events_of_one_demand_sort_in_the_order_of_its_versions():
    seqs = [seq_of(AT, v) for v in (1, 2, 10)] + [seq_of(AT + timedelta(microseconds=1), 1)]
    assert seqs == sorted(seqs)
    assert seq_of("2026-11-02T09:30:00+08:00") < seq_of("2026-11-02T09:30:00+00:00")  # compared in UTC


def ratings_message(type_, ratings, channel):
    data = {"source_id": "r1", "channel": channel, "period": "2026Q4", "survey_id": "s1" if channel == "survey" else None,
            "enterprise": {"code": "91350100M000100Y43", "scale": "small", "ownership": "private",
                           "capital": "domestic", "township": "城关镇", "industry": "制造业"},
            "ratings": ratings, "nps": None}
    return messages.envelope(type_, data, id_="r1", occurred_at=AT)


def rating(level, department="market", question="q1", **extra):
    return {"question": question, "department": department, "indicator": "x", "weight": 1.0, "level": level,
            "points": (level - 1) * 25, **extra}


def test_an_answer_raises_response_accepted_with_counts_and_a_bad_rating_per_low_rating_never_the_enterprise():
    message = ratings_message(messages.RESPONSE_SUBMITTED, [rating(5), rating(2, "tax", "q3"), rating(1, "land", "q4")],
                              "survey")
    events = translate.translate(as_sent(message), counts=lambda m: (12, 3))
    assert [e["type"] for e in events] == ["response.accepted", "bad_rating.received", "bad_rating.received"]
    assert events[0]["data"] == {"survey_id": "s1", "period": "2026Q4", "township": "城关镇", "responses": 12,
                                 "township_responses": 3}
    assert [(e["data"]["department"], e["data"]["question"], e["data"]["level"]) for e in events[1:]] == \
        [("tax", "q3", 2), ("land", "q4", 1)]
    text = json.dumps([e["data"] for e in events], ensure_ascii=False)
    assert "91350100M000100Y43" not in text and "small" not in text and "制造业" not in text
    assert len({e["id"] for e in events}) == 3


def test_a_visits_bad_rating_carries_the_comment():
    message = ratings_message(messages.VISIT_RECORDED, [rating(1, comment="审批太慢"), rating(4, "tax", comment="好")],
                              "visit")
    events = translate.translate(as_sent(message))
    assert [(e["type"], e["data"]["comment"], e["data"]["channel"]) for e in events] == \
        [("bad_rating.received", "审批太慢", "visit")]


def test_survey_status_and_a_period_release_become_events_and_unknown_types_are_refused():
    opened = messages.envelope(messages.SURVEY_OPENED, {"survey_id": "s1", "code": "2026Q4", "version": 1,
                                                        "title": "调查", "period": "2026Q4", "status": "open"})
    assert [e["data"]["survey_id"] for e in translate.translate(as_sent(opened))] == ["s1"]
    released = {"type": "period.released", "id": "rel-1", "occurred_at": AT.isoformat(), "schema_version": 1,
                "data": {"period": "2026Q4", "release": 2, "released_at": AT.isoformat(), "extra": 1}}
    (event,) = translate.translate(translate.decode(json.dumps(released).encode()))
    assert event["type"] == "period.released" and event["data"] == {"period": "2026Q4", "release": 2,
                                                                   "released_at": AT.isoformat()}
    with pytest.raises(messages.ValidationError):
        translate.decode(json.dumps({**released, "type": "period.exploded"}).encode())


def test_opening_and_closing_a_survey_raise_their_events_once_with_the_change():
    from services.survey.departments.use_cases import create_department
    from services.survey.surveys.schemas import SurveyDefinitionSchema
    from services.survey.surveys.use_cases import close_survey, create_survey, open_survey
    from tests.fakes import fake_services
    svc = fake_services()
    create_department(svc, "market", "市场监管局")
    survey = create_survey(svc, SurveyDefinitionSchema().load({
        "code": "2026Q4-w", "title": "满意度", "period": "2026Q4",
        "questions": [{"id": "q1", "type": "rating5", "text": "服务", "department": "market"}]}))
    svc.outbox.published.clear()
    open_survey(svc, survey["id"])
    open_survey(svc, survey["id"])  # already open: no second event
    close_survey(svc, survey["id"])
    events = [(routing_key, message["data"]["survey_id"], message["data"]["status"])
              for _, _, routing_key, message in svc.outbox.published]
    assert events == [("survey.opened", survey["id"], "open"), ("survey.closed", survey["id"], "closed")]
    assert svc.surveys.get(survey["id"])["status"] == "closed"
