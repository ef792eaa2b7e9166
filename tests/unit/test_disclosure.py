"""Complementary suppression (shared/disclosure.py): hand-worked breakdowns and the subtraction attack."""
import itertools
import random

from shared import disclosure as d
from shared.scoring import segment_indices

MIN_N = 5


def test_the_issue_example_hides_the_complement_too():
    # Six enterprises: five domestic, one foreign. Hiding only the foreign one gives it away by subtraction.
    assert d.hidden_parts([5, 1], MIN_N) == {0, 1}


def test_small_parts_that_together_reach_min_n_hide_nothing_more():
    assert d.hidden_parts([10, 3, 2], MIN_N) == {1, 2}      # 3 + 2 = 5 hidden: enough
    assert d.hidden_parts([10, 7, 3, 1], MIN_N) == {2, 3, 1}  # 4 hidden → the smallest shown (7) joins


def test_the_smallest_shown_part_goes_first_ties_by_position():
    assert d.hidden_parts([9, 6, 6, 2], MIN_N) == {1, 3}
    assert d.hidden_parts([6, 9, 6, 2], MIN_N) == {0, 3}


def test_empty_parts_are_hidden_but_cover_nothing():
    assert d.hidden_parts([20, 0, 10], MIN_N) == {1}         # nobody to recover
    assert d.hidden_parts([20, 0, 1], MIN_N) == {0, 1, 2}


def test_nothing_small_nothing_hidden():
    assert d.hidden_parts([5, 5, 8], MIN_N) == set()
    assert d.hidden_parts([], MIN_N) == set()


def test_a_whole_below_min_n_hides_every_part():
    assert d.hidden_parts([3, 1], MIN_N) == {0, 1}


def test_hidden_parts_publish_no_n():
    parts = [{"value": "domestic", "n": 5, "index": 80.0, "sd": 10.0, "ci95": [70, 90]},
             {"value": "foreign", "n": 1, "index": None, "sd": None, "ci95": None}]
    out = d.protect_parts(parts, MIN_N)
    assert out == [{"value": "domestic", "n": None, "index": None, "sd": None, "ci95": None, "suppressed": True},
                   {"value": "foreign", "n": None, "index": None, "sd": None, "ci95": None, "suppressed": True}]


def test_segment_breakdown_lists_every_value_of_the_period():
    segs = [{"value": "private", "n": 7, "index": 60.0, "sd": 1.0, "ci95": [59, 61], "suppressed": False}]
    out = d.segment_breakdown(segs, ["state", "private", "other"], MIN_N)
    assert [(s["value"], s["n"], s["suppressed"]) for s in out] == [
        ("other", None, True), ("private", 7, False), ("state", None, True)]


def test_demand_figures_are_withheld_below_min_n_enterprises():
    figures = {"code": "tax", "received": 6, "resolved": 2, "on_time_rate": 0.5, "callback_index": None,
               "suppressed": True}
    out = d.demand_figures(figures, enterprises=1, min_n=MIN_N)
    assert out["received"] is None and out["resolved"] is None and out["suppressed"] and out["code"] == "tax"
    assert d.demand_figures(figures, enterprises=5, min_n=MIN_N) == figures
    assert d.demand_figures(figures, enterprises=0, min_n=MIN_N) == figures


def test_channels_go_with_the_index():
    assert d.channel_counts({"survey": 1, "visit": 0}, department_suppressed=True) is None
    assert d.channel_counts({"survey": 9, "visit": 2}, department_suppressed=False) == {"survey": 9, "visit": 2}


def recoverable(whole_n, whole_index, parts):
    """What subtraction recovers: (enterprises, mean) of the hidden parts, from the whole and the shown parts."""
    if whole_n < MIN_N:  # the whole itself is withheld: nothing to subtract from
        return 0, None
    shown = [p for p in parts if not p["suppressed"]]
    rest_n = whole_n - sum(p["n"] for p in shown)
    if rest_n <= 0:
        return 0, None
    return rest_n, (whole_n * whole_index - sum(p["n"] * p["index"] for p in shown)) / rest_n


def test_subtraction_over_random_breakdowns_never_isolates_fewer_than_min_n():
    rng = random.Random(12)
    for _ in range(300):
        k = rng.randint(1, 6)
        cells = []
        for e in range(rng.randint(1, 30)):
            cells.append({"enterprise": f"E{e}", "swp": rng.choice([0, 25, 50, 75, 100]), "sw": 1.0,
                          "segment": {"township": f"T{rng.randint(1, k)}"}})
        whole_n = len(cells)
        whole_index = sum(c["swp"] for c in cells) / whole_n
        parts = d.segment_breakdown(segment_indices(cells, "township", 1), [f"T{i}" for i in range(1, k + 1)], MIN_N)
        rest_n, _ = recoverable(whole_n, whole_index, parts)
        assert rest_n == 0 or rest_n >= MIN_N, parts


def test_hidden_cover_is_zero_or_at_least_min_n_for_all_small_breakdowns():
    for sizes in itertools.product(range(0, 8), repeat=3):
        hidden = d.hidden_parts(list(sizes), MIN_N)
        cover = d.hidden_cover(sizes, hidden)
        everything = len(hidden) == len(sizes)  # then the whole (the same enterprises) is below min_n too
        assert cover == 0 or cover >= MIN_N or everything, (sizes, hidden)


# --- between releases ---------------------------------------------------------------------------------
def cell(department, enterprise, swp, indicator="general", level="4"):
    return {"department": department, "enterprise": enterprise, "indicator": indicator, "swp": swp, "sw": 1.0,
            "levels": {level: 1}}


def test_a_department_changed_by_fewer_than_min_n_enterprises_is_held_back():
    before = [cell("market", f"E{i}", 75.0) for i in range(6)] + [cell("tax", f"E{i}", 50.0) for i in range(6)]
    late = [cell("market", "E9", 0.0, level="1")]                      # one late 差评 for market
    many = [cell("tax", f"L{i}", 100.0, level="5") for i in range(5)]  # five late answers for tax
    assert d.held_back_departments(before, before + late + many, MIN_N) == ["market"]
    assert d.changed_enterprises(before, before + late) == {"market": {"E9"}}


def test_shards_of_one_cell_count_as_one_state_and_a_changed_answer_counts():
    one = [cell("market", "E1", 75.0)]
    sharded = [cell("market", "E1", 25.0), {**cell("market", "E1", 50.0), "sw": 0.0, "levels": {}}]
    assert d.changed_enterprises(one, sharded) == {}
    assert d.changed_enterprises(one, [cell("market", "E1", 100.0)]) == {"market": {"E1"}}


def test_nps_and_new_demands_are_held_back_alike():
    at = "2026-01-01T00:00:00"
    old = [{"_id": f"r{i}", "enterprise": f"E{i}", "score": 9, "occurred_at": at} for i in range(6)]
    assert d.nps_held_back(old, old + [{"_id": "late", "enterprise": "E9", "score": 0, "occurred_at": at}], MIN_N)
    assert not d.nps_held_back(old, old, MIN_N)
    demands = [{"_id": "a", "department": "tax", "raised_by": "x"}]
    assert d.demand_departments_held_back(demands, demands + [{"_id": "b", "department": "tax", "raised_by": "y"}],
                                          MIN_N) == ["tax"]
    new = [{"_id": f"n{i}", "department": "tax", "raised_by": f"p{i}"} for i in range(5)]
    assert d.demand_departments_held_back(demands, demands + new, MIN_N) == []


def test_voices_compare_by_their_parts():
    voice = {"department": "market", "enterprise": "E1", "parts": {"a": {"swp": 75.0, "sw": 1.0}}}
    again = {**voice, "_id": "other id, same parts"}
    changed = {**voice, "parts": {"a": {"swp": 0.0, "sw": 1.0}}}
    assert d.changed_enterprises([voice], [again]) == {}
    assert d.changed_enterprises([voice], [changed]) == {"market": {"E1"}}
    assert d.held_back_departments([voice], [voice, {**voice, "enterprise": "E2"}], MIN_N) == ["market"]
