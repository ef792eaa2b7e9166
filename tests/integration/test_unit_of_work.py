"""The unit of work on the real (embedded) MongoDB: a change and its events exist together or not at all."""
import pytest

from services.survey.bootstrap import bootstrap
from services.survey.departments.use_cases import create_department
from services.survey.unit_of_work import UnitOfWork
from shared import messages, mongo
from shared.errors import AlreadyExists
from tests.fakes import RecordingOutbox
from tests.harness import make_config


@pytest.fixture
def svc(mongo_server):
    config, _ = make_config(mongo_server.url, "amqp://guest:guest@127.0.0.1:1/%2F")  # no broker: it is recorded
    services = bootstrap(config, outbox=RecordingOutbox())
    services.ensure_indexes()
    return services


class Crash(Exception):
    pass


def test_a_failure_between_the_department_and_its_event_leaves_neither(svc, monkeypatch):
    real_write = UnitOfWork.write

    def write_then_fail_before_the_event(self, collection, records, session):
        if collection == "outbox":
            raise Crash("the process dies between the two writes")
        return real_write(self, collection, records, session)
    monkeypatch.setattr(UnitOfWork, "write", write_then_fail_before_the_event)
    with pytest.raises(Crash):
        create_department(svc, "tax", "税务局")
    assert svc.store.departments.count_documents({}) == 0 and svc.store.outbox.count_documents({}) == 0
    assert svc.outbox.published == []

    monkeypatch.setattr(UnitOfWork, "write", real_write)  # the administrator posts it again: 201, not 409
    create_department(svc, "tax", "税务局")
    assert svc.store.departments.count_documents({}) == 1
    (event,) = svc.store.outbox.find({})
    assert event["routing_key"] == messages.DEPARTMENT_CHANGED and event["published"] is False
    with pytest.raises(AlreadyExists):
        create_department(svc, "tax", "税务局")
    assert svc.store.outbox.count_documents({}) == 1


def test_a_single_record_is_one_journaled_insert_without_a_transaction(svc, monkeypatch):
    def no_transaction(client, work):
        raise AssertionError("one insert needs no transaction (DESIGN §8: the answer path's cost)")
    svc.transaction = no_transaction
    uow = svc.unit_of_work()
    uow.event(messages.DEPARTMENT_CHANGED, messages.envelope(messages.DEPARTMENT_CHANGED, {"code": "x", "name": "x"}))
    uow.commit()
    assert svc.store.outbox.count_documents({}) == 1 and len(svc.outbox.published) == 1
    svc.transaction = mongo.run_transaction
