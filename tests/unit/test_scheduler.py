"""The scheduler runs each duty when due, in one process at a time (the lease), apart from the outbox."""
import time

import mongomock
from pymongo.errors import AutoReconnect

from services.survey.scheduler import Scheduler


def test_a_due_duty_runs_in_the_process_holding_the_lease_only(monkeypatch):
    leases = mongomock.MongoClient(tz_aware=True).db.leases
    clock = [1000.0]
    monkeypatch.setattr(time, "monotonic", lambda: clock[0])
    runs = []
    first, second = Scheduler(leases, "a"), Scheduler(leases, "b")
    first.every(10, lambda: runs.append("a"))
    second.every(10, lambda: runs.append("b"))
    assert first.run_due() == 0 and runs == []  # not due yet
    clock[0] += 10
    assert first.run_due() == 1 and second.run_due() == 0 and runs == ["a"]
    assert first.run_due() == 0  # the next turn is ten seconds on
    clock[0] += 10
    first.run_due()
    assert runs == ["a", "a"]


def test_a_failing_duty_is_logged_and_tried_again_at_its_next_turn(monkeypatch, caplog):
    leases = mongomock.MongoClient(tz_aware=True).db.leases
    clock = [0.0]
    monkeypatch.setattr(time, "monotonic", lambda: clock[0])
    calls = []

    def sweep():
        calls.append(clock[0])
        if len(calls) == 1:
            raise AutoReconnect("database away")
    s = Scheduler(leases, "a")
    s.every(5, sweep)
    clock[0] = 5
    s.run_due()
    clock[0] = 10
    s.run_due()
    assert calls == [5, 10] and "database away" in caplog.text
