"""Exclusions on fakes (tests/fakes.py): the use case the API and upheld appeals call, and its event."""
import pytest

from services.survey.answers.accept import accept
from services.survey.departments.use_cases import create_department
from services.survey.exclusions import rules
from services.survey.exclusions.use_cases import exclude, restore
from services.survey.unit_of_work import UnitOfWork
from shared import messages
from shared.errors import Conflict, NotFound
from tests.fakes import fake_services
from tests.unit.test_use_cases import ADMIN, invited, open_survey_with, registered


@pytest.fixture
def svc():
    services = fake_services()
    create_department(services, "market", "市场监管局")
    return services


def answered(svc, q1=2):
    survey_id = open_survey_with(svc)
    ent = registered(svc)
    response_id = accept(svc, invited(svc, survey_id, ent), {"q1": q1, "q2": 9})
    svc.outbox.published.clear()
    return response_id, ent


def events(svc):
    return [(routing_key, messages.decode(messages.encode(message))) for _, _, routing_key, message in svc.outbox.published]


def test_excluding_a_rating_stores_the_record_and_publishes_its_state(svc):
    response_id, ent = answered(svc)
    record = exclude(svc, f"response:{response_id}/q1", "误评", ADMIN)
    assert (record["active"], record["version"], record["whole"]) == (True, 1, False)
    assert record["ratings"] == [{"index": 0, "question": "q1", "department": "market"}]
    assert record["by"] == {"role": "admin", "name": "admin", "key": "env-admin"}
    ((routing_key, message),) = events(svc)
    assert routing_key == messages.RATING_EXCLUDED and message["type"] == messages.RATING_EXCLUDED
    assert message["data"] | {} == {
        "exclusion_id": record["_id"], "version": 1, "active": True, "target": f"response:{response_id}/q1",
        "source_id": response_id, "channel": "survey", "period": "2026Q4", "enterprise": ent["code"],
        "whole": False, "ratings": [{"index": 0, "question": "q1", "department": "market"}],
        "departments": ["market"], "appeal": None}


def test_restoring_publishes_version_2_and_a_second_restore_or_exclusion_is_a_conflict(svc):
    response_id, _ = answered(svc)
    record = exclude(svc, f"response:{response_id}", "批量刷评", ADMIN)
    with pytest.raises(Conflict):
        exclude(svc, f"response:{response_id}/q1", "已整份剔除", ADMIN)  # every rating named is excluded already
    restored = restore(svc, record["_id"], "复核后恢复", ADMIN)
    assert (restored["active"], restored["version"]) == (False, 2)
    with pytest.raises(Conflict):
        restore(svc, record["_id"], "again", ADMIN)
    assert [(k, m["data"]["version"], m["data"]["active"]) for k, m in events(svc)] == [
        (messages.RATING_EXCLUDED, 1, True), (messages.RATING_RESTORED, 2, False)]
    again = exclude(svc, f"response:{response_id}", "再次剔除", ADMIN)  # a new exclusion, a new id
    assert again["_id"] != record["_id"] and again["_id"] == rules.exclusion_id_of(f"response:{response_id}", 2)


def test_unknown_targets_are_not_found_and_publish_nothing(svc):
    response_id, _ = answered(svc)
    for target in ("response:nope", f"response:{response_id}/q9", f"response:{response_id}/q2", "visit:nope"):
        with pytest.raises(NotFound):
            exclude(svc, target, "x", ADMIN)
    with pytest.raises(NotFound):
        restore(svc, "nope", "x", ADMIN)
    assert svc.outbox.published == [] and svc.store.exclusions.count_documents({}) == 0


def test_with_a_callers_unit_of_work_nothing_is_written_before_the_caller_commits(svc):
    response_id, _ = answered(svc)
    uow = svc.unit_of_work()
    record = exclude(svc, f"response:{response_id}/q1", "申诉成立", ADMIN, appeal="appeal-1", uow=uow)
    assert isinstance(uow, UnitOfWork) and svc.store.exclusions.count_documents({}) == 0
    uow.commit()
    assert svc.exclusions.get(record["_id"])["appeal"] == "appeal-1"
    assert [k for k, _ in events(svc)] == [messages.RATING_EXCLUDED]
