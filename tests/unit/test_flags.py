"""The suspicious-rating detectors (services/survey/flags/rules.py): each raised by a generated pattern, not by
ordinary answers and visits, and holding to its thresholds."""
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from services.survey.flags import rules
from shared.config import FlagThresholds

T = FlagThresholds()
NOON = datetime(2026, 11, 20, 4, 0, tzinfo=UTC)  # 12:00 in Asia/Shanghai
DEPTS = ["market", "land", "tax", "housing", "env", "hrss", "approval", "power"]


def answer(i, levels=(4, 5, 3, 4, 5, 4), at=NOON, opened=None, client=None, answered=None, township="城关镇"):
    return {"id": f"r{i}", "survey": "s1", "period": "2026Q4", "at": at, "invitation": f"i{i}", "enterprise": f"e{i}",
            "township": township, "client": client, "answered": answered or len(levels) + 3,
            "opened_at": opened, "ratings": [{"department": DEPTS[k], "level": v} for k, v in enumerate(levels)]}


def visit(i, at, enterprise=None, township="城关镇", levels=None, cadre="k1", created=None):
    levels = levels or {"market": 4}
    return {"id": f"v{i}", "cadre": cadre, "cadre_name": "张三", "enterprise": enterprise or f"e{i}", "township": township,
            "visited_at": at, "at": created or at, "period": "2026Q4",
            "ratings": [{"department": d, "level": v} for d, v in levels.items()]}


# --- speeders --------------------------------------------------------------------------------------------------
def test_a_speeder_is_flagged_with_its_seconds_per_question_and_the_bound():
    fast = answer(1, opened=NOON - timedelta(seconds=12), answered=9)
    found = rules.speeder(fast, T)
    assert found["kind"] == "speeder" and found["refs"] == [{"kind": "response", "id": "r1"}]
    assert found["figures"]["seconds_per_question"] == pytest.approx(12 / 9)
    assert found["thresholds"] == {"speeder_seconds": 2.0} and "秒" in found["reason"]


def test_an_ordinary_pace_or_an_unknown_start_is_not_a_speeder():
    assert rules.speeder(answer(1, opened=NOON - timedelta(minutes=3), answered=9), T) is None
    assert rules.speeder(answer(1, opened=None), T) is None  # answered without opening the page: time unknown


def test_the_speeder_bound_is_configurable():
    pace = answer(1, opened=NOON - timedelta(seconds=27), answered=9)  # 3 s a question
    assert rules.speeder(pace, T) is None
    assert rules.speeder(pace, replace(T, speeder_seconds=4)) is not None


# --- straight-lining -------------------------------------------------------------------------------------------
def test_identical_ratings_across_enough_questions_are_straight_lined_with_level_and_n():
    found = rules.straight_line(answer(1, levels=(5,) * 7), T)
    assert found["figures"] == {"ratings": 7, "level": 5} and found["thresholds"] == {"straight_min": 6}
    assert "非常满意" in found["reason"] and set(found["departments"]) == set(DEPTS[:7])


def test_varied_or_too_few_ratings_are_not_straight_lined():
    assert rules.straight_line(answer(1, levels=(5, 5, 5, 5, 5, 4, 5)), T) is None
    assert rules.straight_line(answer(1, levels=(5,) * 5), T) is None
    assert rules.straight_line(answer(1, levels=(5,) * 5), replace(T, straight_min=5)) is not None


# --- bursts ----------------------------------------------------------------------------------------------------
def test_more_than_k_answers_from_one_address_within_t_minutes_are_each_flagged():
    burst = [answer(i, at=NOON + timedelta(minutes=i), client="h1") for i in range(7)]
    found = rules.bursts(burst, T)
    assert sorted(f["refs"][0]["id"] for f in found) == [f"r{i}" for i in range(7)]
    assert {f["figures"]["answers"] for f in found} == {7}
    assert found[0]["thresholds"] == {"burst_max": 5, "burst_minutes": 10.0}


def test_k_answers_from_one_address_or_spread_out_ones_are_not_a_burst():
    assert rules.bursts([answer(i, at=NOON + timedelta(minutes=i), client="h1") for i in range(5)], T) == []
    spread = [answer(i, at=NOON + timedelta(minutes=3 * i), client="h1") for i in range(8)]  # 4 in any 10 minutes
    assert rules.bursts(spread, T) == []
    many = [answer(i, at=NOON, client=f"h{i}") for i in range(20)]  # many addresses at once: a mailing went out
    assert rules.bursts(many, T) == []
    assert rules.bursts(spread, replace(T, burst_max=3)) != []


def test_answers_from_one_device_are_a_burst_whatever_their_addresses():
    phone = [{**answer(i, at=NOON + timedelta(minutes=i), client=f"h{i}"), "device": "d1"} for i in range(6)]
    found = rules.bursts(phone, T)
    assert len(found) == 6 and {f["figures"]["by"] for f in found} == {"device"} and "同一设备" in found[0]["reason"]
    assert rules.bursts([{**a, "device": f"d{i}"} for i, a in enumerate(phone)], T) == []


def test_a_burst_is_judged_only_on_windows_ending_at_a_new_answer():
    burst = [answer(i, at=NOON + timedelta(minutes=i), client="h1") for i in range(7)]
    assert rules.bursts(burst, T, new_ids=set()) == []
    assert len(rules.bursts(burst, T, new_ids={"r6"})) == 7


# --- cadre patterns ----------------------------------------------------------------------------------------------
def test_a_cadre_rating_a_department_alike_across_n_visits_is_flagged():
    visits = [visit(i, NOON + timedelta(days=i), levels={"market": 5, "tax": 3 + i % 3}) for i in range(10)]
    found = rules.cadre_same(visits, T)
    assert [f["departments"] for f in found] == [["market"]]
    assert found[0]["figures"] == {"visits": 10, "level": 5} and len(found[0]["refs"]) == 10
    assert found[0]["_id"] == "cadre_same:k1:market:2026Q4"


def test_varied_or_fewer_visit_ratings_are_not_a_cadre_pattern():
    assert rules.cadre_same([visit(i, NOON + timedelta(days=i), levels={"market": 5}) for i in range(9)], T) == []
    varied = [visit(i, NOON + timedelta(days=i), levels={"market": 5 if i else 4}) for i in range(12)]
    assert rules.cadre_same(varied, T) == []
    nine = [visit(i, NOON + timedelta(days=i), levels={"market": 5}) for i in range(9)]
    assert rules.cadre_same(nine, replace(T, cadre_same_min=9)) != []


def test_visits_closer_than_travel_allows_are_flagged():
    near = [visit(1, NOON), visit(2, NOON + timedelta(minutes=4))]
    far = [visit(1, NOON), visit(2, NOON + timedelta(minutes=20), township="石桥镇")]
    assert [f["refs"] for f in rules.cadre_travel(near, T)] == [[{"kind": "visit", "id": "v1"}, {"kind": "visit", "id": "v2"}]]
    found = rules.cadre_travel(far, T)
    assert len(found) == 1 and found[0]["figures"]["townships"] == ["城关镇", "石桥镇"]


def test_a_plausible_day_of_visits_or_a_return_to_one_enterprise_is_not_flagged():
    day = [visit(i, NOON + timedelta(minutes=75 * i), township=["城关镇", "石桥镇"][i % 2]) for i in range(5)]
    assert rules.cadre_travel(day, T) == []
    again = [visit(1, NOON, enterprise="e1"), visit(2, NOON + timedelta(minutes=2), enterprise="e1")]
    assert rules.cadre_travel(again, T) == []
    same_town = [visit(1, NOON), visit(2, NOON + timedelta(minutes=12))]
    assert rules.cadre_travel(same_town, T) == []
    assert rules.cadre_travel(same_town, replace(T, visit_gap_minutes=15)) != []


# --- waves -------------------------------------------------------------------------------------------------------
def cell_of(answers):
    return rules.wave_cells(answers, [])


def test_a_run_of_bad_ratings_in_one_township_and_hour_is_a_wave():
    run = [answer(i, levels=(1, 4), at=NOON + timedelta(minutes=i)) for i in range(8)]
    cell = cell_of(run)[("market", "城关镇", NOON)]
    assert (cell["n"], cell["bad"]) == (8, 8)
    found = rules.wave("market", "城关镇", NOON, cell, 400, 20, T)  # the norm: 5 %
    assert found["figures"]["bad"] == 8 and found["figures"]["norm_share"] == pytest.approx(21 / 410)
    assert found["figures"]["chance"] < T.wave_p and len(found["refs"]) == 8 and "差评" in found["reason"]


def test_few_bad_ratings_or_a_share_near_the_norm_is_not_a_wave():
    four = cell_of([answer(i, levels=(1,)) for i in range(4)])[("market", "城关镇", NOON)]
    assert rules.wave("market", "城关镇", NOON, four, 400, 20, T) is None  # under the minimum count
    usual = cell_of([answer(i, levels=(2 if i < 6 else 4,)) for i in range(20)])[("market", "城关镇", NOON)]
    assert rules.wave("market", "城关镇", NOON, usual, 400, 120, T) is None  # 30 % when the norm is 30 %
    assert rules.wave("market", "城关镇", NOON, four, 400, 20, replace(T, wave_min_bad=4)) is not None


def test_the_binomial_tail_is_exact_on_small_numbers():
    assert rules.binomial_tail(2, 2, 0.5) == pytest.approx(0.25)
    assert rules.binomial_tail(1, 3, 0.5) == pytest.approx(0.875)
    assert rules.binomial_tail(0, 3, 0.1) == 1.0
