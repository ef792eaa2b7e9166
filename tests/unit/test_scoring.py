"""The scoring method of DESIGN §5 (shared/scoring.py), checked against hand-computed values.

Expected figures are literals with the arithmetic in a comment; points are linear
((level − 1) / 4 × 100: 1→0, 2→25, 3→50, 4→75, 5→100) unless a test says otherwise.
"""
import math
import random
from datetime import UTC, datetime

import pytest

from shared import messages
from shared.domain import points_for
from shared.scoring import (
    cells_from_ratings,
    competition_ranks,
    department_index,
    enterprise_scores,
    indicator_indices,
    is_laggard,
    mean_sd_ci,
    merge_aggregates,
    nps,
    rank_departments,
    stats_figures,
)
from tests.unit.test_aggregates import Memory

# Student t(0.975, df). df=4 from a t table; df=2 has the closed form (2p − 1) / √(2p(1 − p)) with
# p = 0.975: 0.95 / √0.04875 = 4.302652729749464 (a value 4.302652729911275 seen in some tables is
# off by 1.6e-10, enough to move a ci95 bound by more than 1e-9).
T_975 = {2: 4.302652729749464, 4: 2.7764451051977987}
EPS = 1e-9
LINEAR = {1: 0.0, 2: 25.0, 3: 50.0, 4: 75.0, 5: 100.0}
SEGMENT = {"scale": "small", "ownership": "private", "capital": "domestic", "township": "城关镇",
           "industry": "制造业"}


def rating(enterprise, level, weight=1.0, indicator="general", department="market", channel="survey",
           period="2026Q4", points=None, segment=None):
    """A stored rating as scoring keeps it."""
    return {"enterprise": enterprise, "department": department, "indicator": indicator, "weight": weight,
            "level": level, "points": LINEAR[level] if points is None else points, "period": period,
            "channel": channel, "segment": segment or SEGMENT}


def cells(ratings):
    return list(cells_from_ratings(ratings).values())


def figures(ratings, min_n=1):
    return department_index(cells(ratings), min_n)


def one_each(scores_by_level):
    """One enterprise per level given, each rating once with weight 1."""
    return [rating(f"E{i}", level) for i, level in enumerate(scores_by_level)]


# --- points: a survey's scale, or linear by default -------------------------------------------

def test_points_default_to_the_linear_scale():
    # (level − 1) / 4 × 100
    assert [points_for(lv) for lv in (1, 2, 3, 4, 5)] == [0.0, 25.0, 50.0, 75.0, 100.0]


def test_points_follow_a_custom_scale():
    scale = {"5": 100, "4": 80, "3": 60, "2": 30, "1": 0}
    assert [points_for(lv, scale) for lv in (1, 2, 3, 4, 5)] == [0.0, 30.0, 60.0, 80.0, 100.0]


def test_enterprise_score_under_a_custom_scale():
    scale = {"5": 100, "4": 80, "3": 60, "2": 30, "1": 0}
    ratings = [rating("E1", 4, weight=1.0, points=points_for(4, scale)),
               rating("E1", 2, weight=3.0, points=points_for(2, scale), indicator="other")]
    # (1·80 + 3·30) / (1 + 3) = 170 / 4 = 42.5
    assert figures(ratings)["index"] == pytest.approx(42.5, abs=EPS)


# --- enterprise score: Σ weight·points / Σ weight --------------------------------------------

def test_enterprise_score_is_the_weighted_mean_of_its_ratings():
    ratings = [rating("E1", 4, weight=1.0, indicator="a"), rating("E1", 3, weight=2.0, indicator="b")]
    # (1·75 + 2·50) / (1 + 2) = 175 / 3 = 58.333…
    assert enterprise_scores(cells(ratings)) == {"E1": pytest.approx(175 / 3, abs=EPS)}


def test_enterprise_score_spans_indicators_and_channels():
    ratings = [rating("E1", 5, weight=1.0, indicator="a"),
               rating("E1", 3, weight=2.0, indicator="b"),
               rating("E1", 1, weight=1.0, indicator="visit", channel="visit")]
    # (1·100 + 2·50 + 1·0) / (1 + 2 + 1) = 200 / 4 = 50
    assert enterprise_scores(cells(ratings)) == {"E1": pytest.approx(50.0, abs=EPS)}


def test_enterprise_counts_once_however_often_it_rates():
    ratings = [rating("E1", 5, weight=1.0, indicator="a"),
               rating("E1", 5, weight=1.0, indicator="a"),
               rating("E1", 3, weight=2.0, indicator="b"),
               rating("E1", 1, weight=1.0, indicator="visit", channel="visit"),
               rating("E2", 5)]
    f = figures(ratings)
    # E1: (100 + 100 + 2·50 + 0) / (1 + 1 + 2 + 1) = 300 / 5 = 60; E2: 100
    # index = (60 + 100) / 2 = 80, whereas a weighted mean over all ratings would give
    # (100 + 100 + 2·50 + 0 + 100) / (1 + 1 + 2 + 1 + 1) = 400 / 6 = 66.67
    assert f["n"] == 2
    assert f["index"] == pytest.approx(80.0, abs=EPS)


def test_enterprise_scores_are_kept_apart_per_enterprise():
    ratings = [rating("E1", 5), rating("E2", 1), rating("E2", 3, weight=3.0, indicator="b")]
    # E1: 100; E2: (0 + 3·50) / 4 = 37.5
    assert enterprise_scores(cells(ratings)) == {"E1": pytest.approx(100.0, abs=EPS),
                                                 "E2": pytest.approx(37.5, abs=EPS)}


# --- department index: mean, sample sd, Student-t ci95 ---------------------------------------

def test_department_index_is_the_mean_of_enterprise_scores():
    ratings = [rating("E1", 5), rating("E1", 4, indicator="visit", channel="visit"),   # 87.5
               rating("E2", 4), rating("E2", 3, weight=2.0, indicator="b"),           # 175/3
               rating("E3", 5),                                                        # 100
               rating("E4", 1), rating("E4", 3, indicator="b"),                        # 25
               rating("E5", 2)]                                                        # 25
    f = figures(ratings, min_n=5)
    # (87.5 + 175/3 + 100 + 25 + 25) = (712.5 + 175) / 3 = 887.5 / 3;  / 5 = 887.5 / 15 = 59.1666…
    assert f["n"] == 5
    assert f["index"] == pytest.approx(887.5 / 15, abs=EPS)
    assert f["suppressed"] is False


def test_sd_is_the_sample_standard_deviation_and_ci95_uses_student_t_df4():
    f = figures(one_each([5, 4, 3, 4, 3]), min_n=5)   # scores 100, 75, 50, 75, 50
    # mean = 350 / 5 = 70; squared deviations 900 + 25 + 400 + 25 + 400 = 1750
    # sd = √(1750 / (5 − 1)) = √437.5;  half = t(0.975, 4) · √437.5 / √5 = 2.7764451051977987 · √87.5
    half = 2.7764451051977987 * math.sqrt(87.5)
    assert f["index"] == pytest.approx(70.0, abs=EPS)
    assert f["sd"] == pytest.approx(math.sqrt(437.5), abs=EPS)
    assert f["ci95"][0] == pytest.approx(70.0 - half, abs=EPS)
    assert f["ci95"][1] == pytest.approx(70.0 + half, abs=EPS)


def test_ci95_with_three_enterprises_uses_student_t_df2():
    f = figures(one_each([5, 3, 4]))   # scores 100, 50, 75
    # mean 75; squared deviations 625 + 625 + 0 = 1250; sd = √(1250 / 2) = 25
    # half = t(0.975, 2) · 25 / √3 = 4.302652729749464 · 25 / √3 = 62.10…
    half = T_975[2] * 25 / math.sqrt(3)
    assert f["sd"] == pytest.approx(25.0, abs=EPS)
    assert f["ci95"] == [pytest.approx(75.0 - half, abs=EPS), pytest.approx(75.0 + half, abs=EPS)]


def test_ci95_is_symmetric_around_the_index():
    f = figures(one_each([5, 1, 2, 4, 4]), min_n=5)   # 100, 0, 25, 75, 75: mean 275 / 5 = 55
    # squared deviations 2025 + 3025 + 900 + 400 + 400 = 6750; sd = √(6750 / 4) = √1687.5
    half = T_975[4] * math.sqrt(1687.5) / math.sqrt(5)
    assert f["index"] == pytest.approx(55.0, abs=EPS)
    assert f["ci95"] == [pytest.approx(55.0 - half, abs=EPS), pytest.approx(55.0 + half, abs=EPS)]


def test_identical_scores_give_zero_sd_and_a_point_interval():
    f = figures(one_each([4, 4, 4]))
    assert f["sd"] == pytest.approx(0.0, abs=EPS)
    assert f["ci95"] == [pytest.approx(75.0, abs=EPS), pytest.approx(75.0, abs=EPS)]


def test_one_enterprise_has_no_sd_nor_ci95():
    f = figures([rating("E1", 4), rating("E1", 2, indicator="b")], min_n=1)
    # (75 + 25) / 2 = 50
    assert f["n"] == 1
    assert f["index"] == pytest.approx(50.0, abs=EPS)
    assert f["sd"] is None and f["ci95"] is None


def test_no_scores_have_no_figures():
    assert mean_sd_ci([]) == (None, None, None)


# --- suppression below MANYI_MIN_N -----------------------------------------------------------

def test_fewer_enterprises_than_min_n_are_suppressed_but_n_is_shown():
    # 4 enterprises, 6 ratings: many ratings do not lift the enterprise count
    ratings = one_each([5, 4, 3, 2]) + [rating("E0", 1, indicator="b"), rating("E1", 1, indicator="b")]
    f = figures(ratings, min_n=5)
    assert f == {"n": 4, "index": None, "sd": None, "ci95": None, "levels": None,
                 "satisfied_rate": None, "bad_rate": None, "suppressed": True}


def test_exactly_min_n_enterprises_are_shown():
    f = figures(one_each([5, 4, 3, 2, 1]), min_n=5)
    # (100 + 75 + 50 + 25 + 0) / 5 = 50
    assert f["suppressed"] is False
    assert f["index"] == pytest.approx(50.0, abs=EPS)
    assert f["levels"] == {"1": 1, "2": 1, "3": 1, "4": 1, "5": 1}


def test_a_single_enterprise_is_suppressed_at_the_default_min_n():
    f = figures([rating("E1", 5)], min_n=5)
    assert f["suppressed"] is True and f["n"] == 1 and f["index"] is None


# --- levels and rates count ratings, not enterprises ------------------------------------------

def test_levels_count_ratings_not_enterprises():
    ratings = [rating("E1", 5), rating("E1", 4, indicator="visit", channel="visit"),
               rating("E2", 4), rating("E2", 3, weight=2.0, indicator="b"),
               rating("E3", 5),
               rating("E4", 1), rating("E4", 3, indicator="b"),
               rating("E5", 2)]
    f = figures(ratings, min_n=5)
    # 8 ratings by 5 enterprises; the weight of a rating does not change its count
    assert f["levels"] == {"1": 1, "2": 1, "3": 2, "4": 2, "5": 2}
    # satisfied: levels 3–5 = (2 + 2 + 2) / 8 = 0.75; bad (差评): levels 1–2 = (1 + 1) / 8 = 0.25
    assert f["satisfied_rate"] == pytest.approx(0.75, abs=EPS)
    assert f["bad_rate"] == pytest.approx(0.25, abs=EPS)


def test_repeated_ratings_of_one_enterprise_all_count_in_levels():
    ratings = [rating("E1", 1), rating("E1", 1), rating("E1", 1, indicator="b"), rating("E2", 5)]
    f = figures(ratings)
    # levels: 3 × level 1 by E1, 1 × level 5 by E2 → bad 3/4, satisfied 1/4
    assert f["levels"] == {"1": 3, "2": 0, "3": 0, "4": 0, "5": 1}
    assert f["bad_rate"] == pytest.approx(0.75, abs=EPS)
    assert f["satisfied_rate"] == pytest.approx(0.25, abs=EPS)


def test_level_three_is_satisfied_and_level_two_is_bad():
    f = figures(one_each([3, 2]))
    assert f["satisfied_rate"] == pytest.approx(0.5, abs=EPS)
    assert f["bad_rate"] == pytest.approx(0.5, abs=EPS)


# --- ranks: competition ranking with ties within 1e-9 -----------------------------------------

def test_equal_indices_share_a_rank_and_the_next_rank_is_skipped():
    assert competition_ranks([90.0, 80.0, 80.0, 70.0]) == [1, 2, 2, 4]


def test_ranks_are_highest_first_whatever_the_input_order():
    assert competition_ranks([70.0, 80.0, 90.0, 80.0]) == [4, 2, 1, 2]


def test_indices_within_1e_9_share_a_rank():
    assert competition_ranks([90.0, 80.0, 80.0 + 5e-10, 70.0]) == [1, 2, 2, 4]
    assert competition_ranks([80.0 - 9e-10, 80.0]) == [1, 1]


def test_indices_apart_by_more_than_1e_9_are_not_tied():
    assert competition_ranks([80.0, 80.0 + 3e-9]) == [2, 1]
    assert competition_ranks([90.0, 80.0, 80.0 - 2e-9, 70.0]) == [1, 2, 3, 4]


def test_the_same_index_reached_by_different_arithmetic_ties():
    a = (87.5 + 175 / 3 + 100 + 25 + 25) / 5
    b = 887.5 / 15
    assert competition_ranks([a, b]) == [1, 1]


# --- 落后单位: laggards ------------------------------------------------------------------------

def entries(*indices):
    """Department entries as the gateway builds them; None means suppressed."""
    return [{"code": f"d{i}", "index": x, "suppressed": x is None} for i, x in enumerate(indices)]


def ranks_and_laggards(result):
    return [(e["rank"], e["laggard"]) for e in result]


def test_laggards_are_those_with_fewer_than_bottom_departments_strictly_below():
    result = rank_departments(entries(90.0, 85.0, 80.0, 75.0, 70.0), bottom=3)
    # strictly below: 4, 3, 2, 1, 0 → laggard when < 3
    assert ranks_and_laggards(result) == [(1, False), (2, False), (3, True), (4, True), (5, True)]


def test_ties_at_the_bottom_are_all_laggards():
    result = rank_departments(entries(90.0, 70.0, 80.0, 70.0), bottom=1)
    # strictly below: 90 → 3, 70 → 0, 80 → 2, 70 → 0
    assert ranks_and_laggards(result) == [(1, False), (3, True), (2, False), (3, True)]


def test_a_tie_within_1e_9_above_the_bottom_group_is_not_laggard_by_tie_noise():
    result = rank_departments(entries(90.0, 80.0, 80.0 + 5e-10, 70.0, 60.0), bottom=2)
    # strictly below (beyond 1e-9): 90 → 4, 80 → 2, 80+ε → 2, 70 → 1, 60 → 0
    assert ranks_and_laggards(result) == [(1, False), (2, False), (2, False), (4, True), (5, True)]


def test_with_fewer_ranked_departments_than_bottom_all_are_laggards():
    result = rank_departments(entries(90.0, 80.0), bottom=3)
    assert ranks_and_laggards(result) == [(1, True), (2, True)]


def test_an_index_below_the_threshold_makes_a_laggard():
    result = rank_departments(entries(90.0, 80.0, 74.9, 60.0), bottom=1, below=75.0)
    # 74.9 has one department below it (not < 1) but its index is below 75
    assert ranks_and_laggards(result) == [(1, False), (2, False), (3, True), (4, True)]


def test_an_index_equal_to_the_threshold_is_not_below_it():
    assert is_laggard(75.0, [90.0, 75.0, 60.0], bottom=1, below=75.0) is False
    assert is_laggard(75.0 - 1e-6, [90.0, 75.0 - 1e-6, 60.0], bottom=1, below=75.0) is True


def test_without_a_threshold_only_the_bottom_rule_applies():
    assert is_laggard(10.0, [10.0, 5.0, 1.0, 0.0], bottom=3, below=None) is False
    assert is_laggard(5.0, [10.0, 5.0, 1.0, 0.0], bottom=3, below=None) is True


def test_suppressed_departments_are_never_ranked_nor_laggards():
    result = rank_departments(entries(None, 70.0, None, 90.0), bottom=3, below=100.0)
    assert ranks_and_laggards(result) == [(None, False), (2, True), (None, False), (1, True)]


def test_suppressed_departments_do_not_count_as_below():
    result = rank_departments(entries(90.0, 80.0, None, None, None), bottom=1)
    # 80 is the lowest *ranked* department: nothing ranked is below it
    assert ranks_and_laggards(result) == [(1, False), (2, True)] + [(None, False)] * 3


# --- NPS ---------------------------------------------------------------------------------------

def test_nps_is_promoters_minus_detractors_per_respondent():
    result = nps([10, 10, 9, 8, 0], min_n=5)
    # promoters 3 (10, 10, 9), passives 1 (8), detractors 1 (0): 100 × (3 − 1) / 5 = 40
    assert result["nps"] == pytest.approx(40.0, abs=EPS)
    assert (result["n"], result["promoters"], result["passives"], result["detractors"]) == (5, 3, 1, 1)
    assert result["suppressed"] is False


def test_nps_boundaries_nine_promotes_seven_and_eight_are_passive_six_detracts():
    result = nps([9, 8, 7, 6, 5, 0], min_n=1)
    # promoters 1, passives 2, detractors 3: 100 × (1 − 3) / 6 = −33.333…
    assert (result["promoters"], result["passives"], result["detractors"]) == (1, 2, 3)
    assert result["nps"] == pytest.approx(-200 / 6, abs=EPS)


def test_nps_is_suppressed_below_min_n():
    result = nps([10, 10, 10, 10], min_n=5)
    assert result == {"n": 4, "nps": None, "promoters": None, "passives": None, "detractors": None,
                      "suppressed": True}


# --- indicator index ----------------------------------------------------------------------------

def test_indicator_index_is_restricted_to_one_indicator():
    ratings = [rating("E1", 5, indicator="a"), rating("E1", 1, indicator="b"),
               rating("E2", 4, indicator="a", weight=1.0), rating("E2", 2, indicator="a", weight=3.0),
               rating("E3", 3, indicator="a", channel="visit"),
               rating("E4", 2, indicator="b")]
    result = indicator_indices(cells(ratings), min_n=2)
    # a: E1 100, E2 (75 + 3·25) / 4 = 37.5, E3 50 → n 3, index 187.5 / 3 = 62.5
    #    squared deviations 1406.25 + 625 + 156.25 = 2187.5 → sd √(2187.5 / 2) = √1093.75
    # b: E1 0, E4 25 → n 2, index 12.5, sd √((156.25 + 156.25) / 1) = √312.5
    a, b = result
    assert [r["indicator"] for r in result] == ["a", "b"]
    assert (a["n"], a["suppressed"]) == (3, False)
    assert a["index"] == pytest.approx(62.5, abs=EPS)
    assert a["sd"] == pytest.approx(math.sqrt(1093.75), abs=EPS)
    half = T_975[2] * math.sqrt(1093.75) / math.sqrt(3)
    assert a["ci95"] == [pytest.approx(62.5 - half, abs=EPS), pytest.approx(62.5 + half, abs=EPS)]
    assert (b["n"], b["suppressed"]) == (2, False)
    assert b["index"] == pytest.approx(12.5, abs=EPS)
    assert b["sd"] == pytest.approx(math.sqrt(312.5), abs=EPS)


def test_indicator_with_too_few_enterprises_is_suppressed():
    ratings = [rating("E1", 5, indicator="a"), rating("E2", 5, indicator="a"), rating("E1", 1, indicator="b")]
    result = indicator_indices(cells(ratings), min_n=2)
    assert result[1] == {"indicator": "b", "n": 1, "index": None, "sd": None, "ci95": None,
                         "suppressed": True}


# --- cells: recomputation from stored ratings ---------------------------------------------------

def test_cells_from_ratings_sum_one_enterprise_department_indicator_and_period():
    ratings = [rating("E1", 4, weight=1.0, indicator="a"),
               rating("E1", 3, weight=2.0, indicator="a", channel="visit"),
               rating("E1", 5, weight=1.0, indicator="b"),
               rating("E1", 5, weight=1.0, indicator="a", period="2026Q3"),
               rating("E2", 2, weight=0.5, indicator="a"),
               rating("E1", 1, weight=1.0, indicator="a", department="land")]
    by_parts = {(c["period"], c["department"], c["indicator"], c["enterprise"]): c
                for c in cells_from_ratings(ratings).values()}
    assert set(by_parts) == {("2026Q4", "market", "a", "E1"), ("2026Q4", "market", "b", "E1"),
                             ("2026Q3", "market", "a", "E1"), ("2026Q4", "market", "a", "E2"),
                             ("2026Q4", "land", "a", "E1")}
    c = by_parts[("2026Q4", "market", "a", "E1")]
    # swp = 1·75 + 2·50 = 175; sw = 1 + 2 = 3
    assert c["swp"] == pytest.approx(175.0, abs=EPS) and c["sw"] == pytest.approx(3.0, abs=EPS)
    assert c["levels"] == {"4": 1, "3": 1}
    assert c["channels"] == {"survey": 1, "visit": 1}
    assert c["segment"] == SEGMENT
    e2 = by_parts[("2026Q4", "market", "a", "E2")]
    # swp = 0.5·25 = 12.5; sw = 0.5
    assert (e2["swp"], e2["sw"]) == (pytest.approx(12.5, abs=EPS), pytest.approx(0.5, abs=EPS))


def test_recomputed_cells_give_the_hand_computed_department_index():
    ratings = [rating("E1", 4, weight=1.0, indicator="a"), rating("E1", 3, weight=2.0, indicator="b"),
               rating("E2", 5), rating("E3", 1, indicator="visit", channel="visit")]
    f = figures(ratings)
    # E1 (75 + 100) / 3 = 58.333…, E2 100, E3 0 → index (175/3 + 100) / 3 = 475 / 9 = 52.777…
    assert f["index"] == pytest.approx(475 / 9, abs=EPS)
    assert f["n"] == 3


# --- property: incremental cells (the scoring worker) equal recomputation -----------------------

def random_messages(rng):
    """Events of random ratings, and the flat list of the ratings they carry (built independently)."""
    segments = {f"E{i}": {"scale": rng.choice(["large", "small"]), "ownership": rng.choice(["state", "private"]),
                          "capital": "domestic", "township": rng.choice(["城关镇", "东乡"]), "industry": "制造业"}
                for i in range(6)}
    scale = rng.choice([None, {"1": 0, "2": 30, "3": 60, "4": 80, "5": 100}])
    events, flat = [], []
    occurred = datetime(2026, 11, 1, tzinfo=UTC)
    for m in range(rng.randint(20, 60)):
        enterprise = rng.choice(sorted(segments))
        channel = rng.choice(["survey", "visit"])
        period = rng.choice(["2026Q3", "2026Q4"])
        ratings = []
        for _ in range(rng.randint(1, 4)):
            level = rng.randint(1, 5)
            r = {"department": rng.choice(["market", "land", "tax"]),
                 "indicator": "visit" if channel == "visit" else rng.choice(["a", "b", "c"]),
                 "weight": 1.0 if channel == "visit" else rng.choice([0.5, 1.0, 1.5, 2.0, 3.0]),
                 "level": level,
                 "points": points_for(level, None if channel == "visit" else scale)}
            ratings.append(r)
            flat.append({**r, "enterprise": enterprise, "period": period, "channel": channel,
                         "segment": segments[enterprise]})
        source = f"m{m}"
        events.append(messages.envelope(
            messages.RESPONSE_SUBMITTED if channel == "survey" else messages.VISIT_RECORDED,
            {"source_id": source, "channel": channel, "period": period,
             "enterprise": {"code": enterprise, **segments[enterprise]}, "ratings": ratings, "nps": None},
            id_=source, occurred_at=occurred))
    return events, flat


@pytest.mark.parametrize("seed", range(20))
def test_incremental_aggregates_in_any_order_equal_recomputation(seed):
    rng = random.Random(seed)
    events, flat = random_messages(rng)
    deliveries = events + rng.sample(events, k=len(events) // 3)   # some redelivered
    rng.shuffle(deliveries)
    memory = Memory()
    while deliveries:  # batches taken by two competing workers, each writing its own aggregate shards
        size = rng.randint(1, 10)
        batch, deliveries = deliveries[:size], deliveries[size:]
        memory.commit(batch, rng.choice(["w1", "w2"]))

    # the figures derived from the shards, as the gateway reads them, agree with a recomputation
    expected = cells_from_ratings(flat)
    for period in ("2026Q3", "2026Q4"):
        for department in ("market", "land", "tax"):
            stats = merge_aggregates(a for a in memory.aggregates.values()
                                     if a["period"] == period and a["department"] == department)
            a = stats_figures(stats.get(department, {}).get(("all",)), 2)
            b = department_index([c for c in expected.values() if c["period"] == period
                                  and c["department"] == department], min_n=2)
            assert a["n"] == b["n"] and a["suppressed"] == b["suppressed"]
            if not a["suppressed"]:
                assert a["index"] == pytest.approx(b["index"], abs=EPS)
                assert a["sd"] == pytest.approx(b["sd"], abs=EPS)
                assert a["levels"] == b["levels"]


def independent_enterprise_scores(flat, period, department):
    num, den = {}, {}
    for r in flat:
        if r["period"] == period and r["department"] == department:
            num[r["enterprise"]] = num.get(r["enterprise"], 0.0) + r["weight"] * r["points"]
            den[r["enterprise"]] = den.get(r["enterprise"], 0.0) + r["weight"]
    return {e: num[e] / den[e] for e in num}


@pytest.mark.parametrize("seed", range(10))
def test_department_index_matches_a_straightforward_implementation(seed):
    rng = random.Random(1000 + seed)
    _, flat = random_messages(rng)
    all_cells = list(cells_from_ratings(flat).values())
    for department in ("market", "land", "tax"):
        scores = list(independent_enterprise_scores(flat, "2026Q4", department).values())
        f = department_index([c for c in all_cells if c["period"] == "2026Q4" and c["department"] == department],
                             min_n=1)
        assert f["n"] == len(scores)
        if not scores:
            continue
        mean = sum(scores) / len(scores)
        assert f["index"] == pytest.approx(mean, abs=EPS)
        if len(scores) >= 2:
            sd = math.sqrt(sum((s - mean) ** 2 for s in scores) / (len(scores) - 1))
            assert f["sd"] == pytest.approx(sd, abs=EPS)
