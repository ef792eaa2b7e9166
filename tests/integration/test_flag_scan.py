"""The scheduled scan's bookkeeping (services/survey/flags/use_cases.scan) on the real MongoDB server: a pattern
split across two looks is still seen, a late record behind the watermark is still seen, and no look writes a
flag twice."""
from datetime import timedelta

import pytest

from services.survey.flags.use_cases import scan
from shared.domain import utcnow
from tests.planted import RATED, response_doc


@pytest.fixture
def services(survey_app):
    services = survey_app.extensions["manyi"]
    services.ensure_indexes()
    return services


def store_answer(services, i, at, ip="203.0.113.5", levels=(4, 5, 3)):
    ent = {"code": f"E{i:03d}", "township": "城关镇"}
    answers = dict(zip(RATED, levels))
    services.store.db.responses.insert_one(response_doc(f"r{i}", ent, answers, at, ip, f"t{i}"))


def burst_ids(services):
    return sorted(f["refs"][0]["id"] for f in services.flags.all() if f["kind"] == "burst")


def test_a_burst_split_across_two_looks_is_flagged_whole_and_once(services):
    start = utcnow() - timedelta(minutes=30)
    for i in range(4):
        store_answer(services, i, start + timedelta(minutes=i))
    assert scan(services) == 0  # four from one address: not yet a burst
    for i in range(4, 7):
        store_answer(services, i, start + timedelta(minutes=i))
    assert scan(services) == 7
    assert burst_ids(services) == [f"r{i}" for i in range(7)]
    assert {f["figures"]["answers"] for f in services.flags.all()} == {7}
    assert scan(services) == 0  # nothing new: nothing written


def test_a_record_committed_late_behind_the_watermark_is_still_looked_at(services):
    now = utcnow()
    store_answer(services, 1, now - timedelta(minutes=5), ip="a")
    scan(services)
    store_answer(services, 2, now - timedelta(minutes=6), ip="b", levels=(5,) * 6)  # a minute behind: within OVERLAP
    scan(services)
    assert [f["kind"] for f in services.flags.all()] == ["straight_line"]


def test_the_first_look_backfills_what_was_there_before(services):
    old = utcnow() - timedelta(days=20)
    for i in range(6):
        store_answer(services, i, old + timedelta(seconds=30 * i))
    assert scan(services) == 6 and len(burst_ids(services)) == 6
