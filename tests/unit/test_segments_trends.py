"""Segments, the equal-treatment gap, trends and changes (DESIGN §5), against hand-computed values.

Points are linear (1→0, 2→25, 3→50, 4→75, 5→100); each enterprise rates once with weight 1, so
its score is the points of its level.
"""
import math

import pytest

from shared.domain import previous_quarter, quarter_range
from shared.scoring import (
    cells_from_ratings,
    equal_treatment_gap,
    index_figures,
    is_significant,
    period_change,
    segment_indices,
    trend,
    welch_df,
    welch_interval,
)

T_975_DF4 = 2.7764451051977987  # Student t(0.975, 4), from a t table
LINEAR = {1: 0.0, 2: 25.0, 3: 50.0, 4: 75.0, 5: 100.0}


def cells(levels_by_value, attribute="ownership", period="2026Q3"):
    """One enterprise per level; its segment attribute is the dict key."""
    ratings = []
    for value, levels in levels_by_value.items():
        for i, level in enumerate(levels):
            ratings.append({"enterprise": f"{value}-{i}", "department": "market", "indicator": "general",
                            "weight": 1.0, "level": level, "points": LINEAR[level], "period": period,
                            "channel": "survey", "segment": {attribute: value, "scale": "small"}})
    return list(cells_from_ratings(ratings).values())


def test_welch_df_of_unequal_groups():
    # A = [100, 75, 75, 50]: var 1250/3, n 4 → q_a = 625/6; B = [50, 25, 0]: var 625, n 3 → q_b = 1250/6.
    # df = (q_a + q_b)² / (q_a²/3 + q_b²/2) = (1875/6)² / (390625/108 + 2343750/108) = 27/7
    assert welch_df(1250 / 3, 4, 625, 3) == pytest.approx(27 / 7, rel=1e-12)


def test_welch_interval_equal_groups_has_2n_minus_2_df():
    # A = [100, 75, 50], B = [50, 25, 0]: both var 625, n 3. diff = 75 − 25 = 50;
    # se = √(625/3 + 625/3) = √(1250/3); df = (1250/3)² / (2·(625/3)²/2) = 4 → t = 2.7764451051977987
    assert welch_df(625, 3, 625, 3) == pytest.approx(4, rel=1e-12)
    low, high = welch_interval(75, 25, 3, 25, 25, 3)
    half = T_975_DF4 * math.sqrt(1250 / 3)  # = 56.6739…, so the interval is about [−6.67, 106.67]
    assert low == pytest.approx(50 - half, abs=1e-9) and high == pytest.approx(50 + half, abs=1e-9)


def test_welch_interval_needs_two_on_each_side_and_collapses_without_spread():
    assert welch_interval(75, None, 1, 25, 25, 3) is None
    assert welch_interval(75, 0.0, 3, 25, 0.0, 4) == [50, 50]


def test_segment_indices_and_gap():
    # state: [100, 75, 50, 75, 100] → mean 80; private: [50, 25, 0, 50, 25] → mean 30;
    # foreign (collective): 2 enterprises → suppressed at min_n 5.
    c = cells({"state": [5, 4, 3, 4, 5], "private": [3, 2, 1, 3, 2], "collective": [5, 5]})
    segments = segment_indices(c, "ownership", 5)
    assert [s["value"] for s in segments] == ["collective", "private", "state"]
    by = {s["value"]: s for s in segments}
    assert by["collective"] == {"value": "collective", "n": 2, "index": None, "sd": None, "ci95": None,
                                "suppressed": True}
    assert by["state"]["index"] == pytest.approx(80) and by["private"]["index"] == pytest.approx(30)
    # var state = (400 + 25 + 900 + 25 + 400) / 4 = 437.5; var private = (400+25+900+400+25)/4 = 437.5
    # diff 50; se = √(437.5/5·2) = √175; df = 8 (equal n and var) → t(0.975, 8) = 2.306004135204166
    gap = equal_treatment_gap(segments)
    assert gap["value"] == pytest.approx(50) and gap["high"] == "state" and gap["low"] == "private"
    half = 2.306004135204166 * math.sqrt(175)
    assert gap["ci95"] == pytest.approx([50 - half, 50 + half], abs=1e-9)
    assert is_significant(gap["ci95"])  # 50 ∓ 30.51 excludes 0


def test_gap_with_one_or_no_unsuppressed_segment_is_null():
    none = {"value": None, "high": None, "low": None, "ci95": None}
    one = segment_indices(cells({"state": [5, 4, 3, 4, 5], "private": [3, 2]}), "ownership", 5)
    assert [s["suppressed"] for s in one] == [True, False]
    assert equal_treatment_gap(one) == none
    assert equal_treatment_gap(segment_indices(cells({"state": [5], "private": [3, 2]}), "ownership", 5)) == none
    assert equal_treatment_gap([]) == none


def test_cells_without_the_attribute_count_in_no_segment():
    assert segment_indices(cells({"城关镇": [5, 4]}, attribute="township"), "industry", 1) == []


def test_quarters():
    assert previous_quarter("2026Q1") == "2025Q4" and previous_quarter("2026Q3") == "2026Q2"
    assert quarter_range("2025Q3", "2026Q2") == ["2025Q3", "2025Q4", "2026Q1", "2026Q2"]
    assert quarter_range("2026Q2", "2026Q1") == []


def test_trend_across_a_missing_period():
    # Q4: [100, 75, 50] mean 75, var 625; Q1 has no ratings; Q2: [50, 25, 0] mean 25, var 625.
    q4 = index_figures(cells({"state": [5, 4, 3]}, period="2025Q4"), 3)
    q2 = index_figures(cells({"state": [3, 2, 1]}, period="2026Q2"), 3)
    got = trend({"2025Q4": q4, "2026Q2": q2}, ["2025Q3", "2025Q4", "2026Q1", "2026Q2"], 3)
    assert [e["period"] for e in got] == ["2025Q4", "2026Q1", "2026Q2"]
    assert got[0]["n"] == 3 and got[0]["index"] == pytest.approx(75) and not got[0]["suppressed"]
    assert got[0]["change"] is None  # 2025Q3 had nothing to compare with
    assert got[1] == {"period": "2026Q1", "n": 0, "index": None, "suppressed": True, "change": None,
                      "change_ci95": None, "change_significant": None}
    assert got[2]["change"] is None  # no jump across the empty quarter


def test_change_from_the_previous_period_and_its_significance():
    before = index_figures(cells({"state": [5, 4, 3]}, period="2026Q1"), 3)   # 75, sd 25
    after = index_figures(cells({"state": [3, 2, 1]}, period="2026Q2"), 3)    # 25, sd 25
    change = period_change(before, after)
    # −50 ∓ t(0.975, 4)·√(1250/3) = −50 ∓ 56.67: not significant
    half = T_975_DF4 * math.sqrt(1250 / 3)
    assert change["change"] == pytest.approx(-50)
    assert change["change_ci95"] == pytest.approx([-50 - half, -50 + half], abs=1e-9)
    assert change["change_significant"] is False
    low = index_figures(cells({"state": [1, 1, 2, 1, 2]}, period="2026Q2"), 3)
    high = index_figures(cells({"state": [5, 5, 4, 5, 4]}, period="2026Q3"), 3)
    assert period_change(low, high)["change_significant"] is True
