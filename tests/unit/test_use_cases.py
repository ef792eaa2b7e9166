"""The survey service's main use cases on fakes (tests/fakes.py): no server, milliseconds each."""
from datetime import timedelta

import pytest

from services.survey.answers.accept import accept
from services.survey.demands import ledger, rules
from services.survey.departments.use_cases import create_department
from services.survey.invitations.tokens import invitation_id
from services.survey.invitations.use_cases import invite
from services.survey.surveys.schemas import SurveyDefinitionSchema
from services.survey.surveys.use_cases import create_survey, open_survey
from services.survey.unit_of_work import StaleUpdate
from services.survey.visits.recording import record_visit
from shared import messages
from shared.domain import utcnow
from shared.errors import AlreadyExists, Conflict, Forbidden, Gone, Invalid, NotFound
from tests.factories import enterprise
from tests.fakes import fake_services

ADMIN = {"_id": "env-admin", "role": "admin", "name": "admin", "department": None}
CADRE = {"_id": "k-cadre", "role": "cadre", "name": "走访干部", "department": None}


@pytest.fixture
def svc():
    services = fake_services()
    create_department(services, "market", "市场监管局")
    create_department(services, "land", "自然资源局")
    services.outbox.published.clear()
    return services


def registered(svc, **attrs):
    ent = enterprise(**attrs)
    svc.enterprises.save(ent, utcnow())
    return ent


def open_survey_with(svc):
    definition = SurveyDefinitionSchema().load({
        "code": "2026Q4-enterprise", "title": "满意度调查", "period": "2026Q4",
        "questions": [{"id": "q1", "type": "rating5", "text": "市场监管局", "department": "market", "required": True},
                      {"id": "q2", "type": "nps", "text": "推荐度"}]})
    survey = create_survey(svc, definition)
    open_survey(svc, survey["id"])
    svc.outbox.published.clear()  # survey.opened: the tests below count what answers and visits publish
    return survey["id"]


def invited(svc, survey_id, ent):
    (link,) = invite(svc, survey_id, [ent["code"]])
    return link["token"]


# --- create a department -------------------------------------------------------------------------------
def test_a_department_is_stored_with_its_event_and_a_second_one_with_the_code_is_refused():
    svc = fake_services()
    assert create_department(svc, "tax", "税务局") == {"code": "tax", "name": "税务局"}
    assert svc.departments.all() == [{"code": "tax", "name": "税务局"}]
    ((collection, _, routing_key, message),) = svc.outbox.published
    assert (collection, routing_key, message["data"]) == ("outbox", messages.DEPARTMENT_CHANGED,
                                                          {"code": "tax", "name": "税务局"})
    with pytest.raises(AlreadyExists) as refused:
        create_department(svc, "tax", "另一个名字")
    assert refused.value.code == 409 and list(refused.value.errors) == ["code"]
    assert svc.departments.names() == {"tax": "税务局"} and len(svc.outbox.published) == 1


# --- invite ----------------------------------------------------------------------------------------------
def test_inviting_gives_one_link_per_enterprise_and_the_same_link_again(svc):
    survey_id = open_survey_with(svc)
    a, b = registered(svc), registered(svc)
    first = invite(svc, survey_id, [a["code"], b["code"], a["code"]])
    assert [link["enterprise"] for link in first] == [a["code"], b["code"]]
    assert all(link["url"].endswith("/s/" + link["token"]) for link in first)
    assert [link["token"] for link in invite(svc, survey_id, [b["code"]])] == [first[1]["token"]]


def test_inviting_an_unknown_enterprise_or_into_the_past_is_refused_and_stores_nothing(svc):
    survey_id = open_survey_with(svc)
    known = registered(svc)
    with pytest.raises(Invalid) as refused:
        invite(svc, survey_id, [known["code"], "91410000MA00000000"])
    assert list(refused.value.errors["enterprises"]) == ["91410000MA00000000"]
    with pytest.raises(Invalid):
        invite(svc, survey_id, [known["code"]], expires_at=utcnow() - timedelta(minutes=1))
    assert svc.invitations.for_survey(survey_id) == []
    with pytest.raises(NotFound):
        invite(svc, "no-such-survey", [known["code"]])


# --- accept an answer ------------------------------------------------------------------------------------
def test_an_answer_is_stored_with_its_message_and_published_once(svc):
    survey_id = open_survey_with(svc)
    ent = registered(svc)
    token = invited(svc, survey_id, ent)
    response_id = accept(svc, token, {"q1": 4, "q2": 9})
    ((collection, record_id, routing_key, message),) = svc.outbox.published
    assert (collection, record_id, routing_key) == ("responses", response_id, messages.RESPONSE_SUBMITTED)
    assert message["data"]["enterprise"]["code"] == ent["code"] and message["data"]["nps"] == 9
    assert [(r["department"], r["level"], r["points"]) for r in message["data"]["ratings"]] == [("market", 4, 75.0)]
    assert svc.store.responses.find_one({"_id": response_id})["published"] is False  # the relay's until confirmed
    # the identical resend: the same id, nothing stored or published again; other answers: 409
    assert accept(svc, token, {"q1": 4, "q2": 9}) == response_id
    assert len(svc.outbox.published) == 1
    with pytest.raises(Conflict):
        accept(svc, token, {"q1": 5, "q2": 9})


def test_a_bad_answer_or_an_unknown_or_expired_link_stores_and_publishes_nothing(svc):
    survey_id = open_survey_with(svc)
    ent = registered(svc)
    token = invited(svc, survey_id, ent)
    with pytest.raises(Invalid) as refused:
        accept(svc, token, {"q1": 7})
    assert list(refused.value.errors) == ["q1"] and len(refused.value.errors["q1"]) == 2
    with pytest.raises(NotFound):
        accept(svc, "no-such-token", {"q1": 4})
    svc.store.invitations.update_one({"_id": invitation_id(token)},
                                     {"$set": {"expires_at": utcnow() - timedelta(seconds=1)}})
    with pytest.raises(Gone):
        accept(svc, token, {"q1": 4})
    assert svc.store.responses.count_documents({}) == 0 and svc.outbox.published == []


def test_a_bad_rating_in_an_answer_opens_its_rectification_demand_in_the_same_unit_of_work(svc):
    survey_id = open_survey_with(svc)
    ent = registered(svc)
    response_id = accept(svc, invited(svc, survey_id, ent), {"q1": 2})
    (demand,) = svc.store.demands.find({})
    assert (demand["department"], demand["category"], demand["status"]) == ("market", "bad_rating", "assigned")
    assert demand["source"]["id"] == response_id and demand["enterprise"] == ent["code"]
    assert svc.outbox.routing_keys() == [messages.RESPONSE_SUBMITTED, messages.DEMAND_UPDATED]


# --- record a visit --------------------------------------------------------------------------------------
def visit(ent, **changes):
    return {"id": None, "enterprise": ent["code"], "visited_at": utcnow(),
            "ratings": [{"department": "market", "level": 1, "comment": "办证慢"}, {"department": "land", "level": 5}],
            "demands": [{"department": "land", "category": "用地", "text": "厂房用地指标", "urgency": "major"}],
            **changes}


def test_a_visit_is_stored_with_its_listed_and_bad_rating_demands_and_their_messages(svc):
    ent = registered(svc)
    done = record_visit(svc, visit(ent), CADRE)
    assert len(done["demand_ids"]) == 1 and len(done["bad_rating_demand_ids"]) == 1
    stored = {d["_id"]: d for d in svc.store.demands.find({})}
    assert stored[done["demand_ids"][0]]["status"] == "received"
    assert stored[done["bad_rating_demand_ids"][0]]["department"] == "market"
    assert svc.outbox.routing_keys() == [messages.VISIT_RECORDED, messages.DEMAND_UPDATED, messages.DEMAND_UPDATED]
    (_, _, _, message), *_ = svc.outbox.published
    assert [(r["department"], r["indicator"], r["points"]) for r in message["data"]["ratings"]] == \
        [("market", "visit", 0.0), ("land", "visit", 100.0)]


def test_a_visit_resent_with_its_id_is_answered_the_same_and_another_visit_with_that_id_is_refused(svc):
    ent = registered(svc)
    body = visit(ent, id="visit-0001-abcd")
    first = record_visit(svc, body, CADRE)
    assert record_visit(svc, body, CADRE) == first
    assert svc.store.visits.count_documents({}) == 1 and len(svc.outbox.published) == 3
    with pytest.raises(Conflict):
        record_visit(svc, {**body, "demands": []}, CADRE)


def test_a_visit_naming_unknown_things_is_refused_with_each_field(svc):
    body = visit({"code": "91410000MA00000000"}, ratings=[{"department": "nowhere", "level": 3}])
    with pytest.raises(Invalid) as refused:
        record_visit(svc, body, CADRE)
    assert set(refused.value.errors) == {"enterprise", "ratings"}
    assert svc.store.visits.count_documents({}) == 0 and svc.outbox.published == []


# --- change a demand -------------------------------------------------------------------------------------
def listed_demand(svc):
    done = record_visit(svc, visit(registered(svc), ratings=[]), CADRE)
    svc.outbox.published.clear()
    return done["demand_ids"][0]


def assign_to(department):
    terms = rules.Terms.of(fake_services().config)
    return lambda d: rules.assign(d, department, None, utcnow(), rules.actor_of(ADMIN), terms)


def test_a_demand_change_is_stored_with_its_versioned_event(svc):
    demand_id = listed_demand(svc)
    after = ledger.change(svc, demand_id, ADMIN, assign_to("land"))
    assert (after["status"], after["version"]) == ("assigned", 2)
    stored = svc.demands.get(demand_id)
    assert (stored["status"], stored["version"], [h["action"] for h in stored["history"]]) == \
        ("assigned", 2, ["receive", "assign"])
    ((collection, record_id, routing_key, message),) = svc.outbox.published
    assert (collection, record_id, routing_key) == ("outbox", f"{demand_id}:2", messages.DEMAND_UPDATED)
    assert message["data"]["status"] == "assigned"


def test_a_department_key_cannot_change_another_departments_demand_and_an_illegal_step_is_409(svc):
    demand_id = listed_demand(svc)
    other = {"_id": "k-market", "role": "department", "name": "市场监管局", "department": "market"}
    with pytest.raises(Forbidden):
        ledger.change(svc, demand_id, other, lambda d: rules.progress(d, "在办", utcnow(), rules.actor_of(other)))
    with pytest.raises(rules.IllegalTransition) as refused:
        ledger.change(svc, demand_id, ADMIN, lambda d: rules.resolve(d, "已办", utcnow(), rules.actor_of(ADMIN)))
    assert refused.value.code == 409 and svc.demands.get(demand_id)["version"] == 1
    with pytest.raises(NotFound):
        ledger.change(svc, "no-such-demand", ADMIN, assign_to("land"))
    assert svc.outbox.published == []


def test_a_change_that_lost_a_race_is_worked_out_again_on_the_newer_demand(svc, monkeypatch):
    demand_id = listed_demand(svc)
    stale = svc.demands.get(demand_id)
    ledger.change(svc, demand_id, ADMIN, assign_to("land"))  # another request's change, committed first
    reads = iter([stale])
    real_get = svc.demands.get
    monkeypatch.setattr(svc.demands, "get", lambda i: next(reads, None) or real_get(i))
    after = ledger.change(svc, demand_id, ADMIN, assign_to("market"))
    stored = svc.demands.get(demand_id)
    assert after["version"] == stored["version"] == 3 and stored["department"] == "market"
    assert [h["action"] for h in stored["history"]] == ["receive", "assign", "assign"]


def test_a_stale_update_is_refused_by_the_unit_of_work(svc):
    demand_id = listed_demand(svc)
    demand = svc.demands.get(demand_id)
    step = assign_to("land")(demand)
    ledger.change(svc, demand_id, ADMIN, assign_to("market"))
    uow = svc.unit_of_work()
    svc.demands.update(uow, demand, step, rules.apply(demand, step))
    with pytest.raises(StaleUpdate):
        uow.commit()
    assert svc.demands.get(demand_id)["department"] == "market"
