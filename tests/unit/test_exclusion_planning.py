"""Scoring's planning of exclusions (pure, no database), against values computed by hand.

E1 rates `market` twice in 2026Q4: 5 in a survey answer (100 points) and 2 in a visit (25 points), weight 1
each, so its voice is (100 + 25) / 2 = 62.5. Excluding the visit's rating leaves 100; restoring gives 62.5.
"""
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.scoring.planning import (
    aggregate_id,
    coverage,
    excluded_changes,
    exclusion_doc,
    exclusion_sources,
    flip_tallies,
    flips,
    merge_deltas,
    plan_batch,
    rebuilt_voices,
    updated_aggregate,
    voice_changes,
    voice_id,
    voices_of,
)
from services.scoring.rescore import differences, is_covered, oracle
from shared import messages, scoring
from shared.scoring import ALL, QUANTUM, part_key, quantized, voice_scopes
from tests.factories import enterprise, exclusion_event, rating, ratings_event
from tests.unit.test_aggregates import DEPARTMENTS, PERIODS, event
from tests.unit.test_aggregates import Memory as AggregatesMemory

E1 = enterprise()


def decoded(message):
    return messages.decode(messages.encode(message))


def answer_and_visit():
    return (decoded(ratings_event(E1, [rating("market", 5), rating("land", 4)])),
            decoded(ratings_event(E1, [rating("market", 2, indicator="visit")], channel="visit")))


def test_a_rating_arriving_with_or_after_its_exclusion_is_born_excluded():
    answer, visit = answer_and_visit()
    excluded = decoded(exclusion_event(visit, [0]))
    # The exclusion comes first in the batch, or was stored by an earlier batch: either way the same writes.
    for batch, stored in (([excluded, answer, visit], {}), ([answer, visit], {"x1": exclusion_doc(excluded["data"])})):
        writes = plan_batch(batch, set(), {}, stored)
        marks = {(r["source_id"], r["department"]): r["excluded"] for r in writes.ratings}
        assert marks == {(answer["id"], "market"): False, (answer["id"], "land"): False, (visit["id"], "market"): True}
        voice = writes.voices[voice_id("2026Q4", "market", E1["code"])]
        assert [p["swp"] for p in voice["parts"].values()] == [[100.0]]  # only the answer's 5 speaks
        for period in ("2026Q4", "2026"):
            assert writes.tallies[period, "market"] == {"levels": {"5": 1}, "channels": {"survey": 1}, "excluded": 1}


def test_the_newest_version_wins_and_a_redelivery_changes_nothing():
    _, visit = answer_and_visit()
    excluded, restored = decoded(exclusion_event(visit, [0])), decoded(exclusion_event(visit, [0], version=2))
    late = plan_batch([excluded], set(), {}, {"x1": exclusion_doc(restored["data"])})  # restore came first
    assert late.exclusions == {} and len(late.processed) == 1
    writes = plan_batch([restored, excluded], set(), {}, {})
    assert writes.exclusions["x1"]["version"] == 2 and coverage([exclusion_doc(writes.exclusions["x1"])]) == {}
    again = plan_batch([excluded, visit], {excluded["id"], visit["id"]}, {}, {})
    assert not again and again.ratings == [] and again.exclusions == {}


def test_excluding_a_stored_rating_rebuilds_its_voices_and_moves_it_to_the_excluded_count():
    answer, visit = answer_and_visit()
    first = plan_batch([answer, visit], set(), {}, {})
    stored_ratings = first.ratings
    stored_voices = {v: {"parts": [{"indicator": p["indicator"], "segment": p["segment"], "swp": sum(p["swp"]),
                                    "sw": sum(p["sw"]), "levels": p["levels"]} for p in voice["parts"].values()]}
                     for v, voice in first.voices.items()}
    assert voice_scopes(stored_voices[voice_id("2026Q4", "market", E1["code"])]["parts"])[ALL] == 62.5

    excluded = decoded(exclusion_event(visit, [0]))
    writes = plan_batch([excluded], set(), {}, {})
    covered = coverage([exclusion_doc(excluded["data"])])
    flipped = flips([r for r in stored_ratings if r["source_id"] == visit["id"]], covered)
    assert [(r["department"], r["excluded"]) for r in flipped] == [("market", True)]
    flip_tallies(writes, flipped)
    for period in ("2026Q4", "2026"):
        assert writes.tallies[period, "market"] == {"levels": {"2": -1}, "channels": {"visit": -1}, "excluded": 1}
    affected = voices_of(flipped)
    assert affected == {voice_id(p, "market", E1["code"]) for p in ("2026Q4", "2026")}
    marks = {r["_id"]: r for r in flipped}
    voice_ratings = {vid: [marks.get(r["_id"], r) for r in stored_ratings if r["department"] == "market"]
                     for vid in affected}
    rebuilt, emptied, deltas = rebuilt_voices(voice_ratings, stored_voices)
    assert emptied == [] and {voice_scopes(v["parts"])[ALL] for v in rebuilt} == {100.0}
    # One enterprise, one voice: n unchanged, Σq from 62.5 to 100, and the visit indicator's scope is gone.
    q = deltas["2026Q4", "market"]
    assert q[ALL] == [0, quantized(100) - quantized(62.5), quantized(100) ** 2 - quantized(62.5) ** 2]
    assert q[ALL][1] == 37.5 * QUANTUM and q["indicator", "visit"] == [-1, -quantized(25), -quantized(25) ** 2]

    # Restoring rebuilds the same voices as before, exactly, and the deltas cancel the exclusion's.
    restored = decoded(exclusion_event(visit, [0], version=2))
    back = flips([marks.get(r["_id"], r) for r in stored_ratings if r["source_id"] == visit["id"]],
                 coverage([exclusion_doc(restored["data"])]))
    assert [r["excluded"] for r in back] == [False]
    by_id = {v["_id"]: v for v in rebuilt}
    again, _, undo = rebuilt_voices({vid: stored_ratings_of(stored_ratings, "market") for vid in affected}, by_id)
    assert {v["_id"]: v["parts"] for v in again} == {vid: sorted_parts(stored_voices[vid]) for vid in affected}
    total = merge_deltas(deltas, undo)
    assert all(d == [0, 0, 0] for scopes in total.values() for d in scopes.values())


def test_excluding_every_rating_of_a_voice_deletes_it():
    answer, _ = answer_and_visit()
    first = plan_batch([answer], set(), {}, {})
    vid = voice_id("2026Q4", "land", E1["code"])
    stored = {vid: {"parts": [{"indicator": "general", "segment": r["segment"], "swp": 75.0, "sw": 1.0,
                               "levels": {"4": 1}} for r in first.ratings if r["department"] == "land"]}}
    land = [{**r, "excluded": True} for r in first.ratings if r["department"] == "land"]
    rebuilt, emptied, deltas = rebuilt_voices({vid: land}, stored)
    assert (rebuilt, emptied) == ([], [vid]) and deltas["2026Q4", "land"][ALL] == [-1, -quantized(75), -quantized(75) ** 2]


def stored_ratings_of(ratings, department):
    return [r for r in ratings if r["department"] == department]


def sorted_parts(voice):
    return sorted(voice["parts"], key=part_key)


# --- the invariant under random exclusions, restorations, orders, redeliveries and two workers ----------------
class Memory(AggregatesMemory):
    """tests/unit/test_aggregates.py's in-memory mirror of a transaction, with exclusions as the repository
    applies them (ScoresStore.apply_transaction)."""

    def __init__(self):
        super().__init__()
        self.exclusions = {}

    def commit(self, batch, shard):
        states = {k: d for k, d in self.exclusions.items() if d["source_id"] in exclusion_sources(batch)}
        writes = plan_batch(batch, self.processed, {}, states)
        if not writes:
            return
        flipped, voice_ratings, _ = excluded_changes(
            writes, states, lambda ids: [r for r in self.ratings if r["_id"] in ids],
            lambda q, d, e: [r for r in self.ratings if (r["period"], r["department"], r["enterprise"]) == (q, d, e)])
        stored = {v: self.voices[v] for v in [*writes.voices, *voice_ratings] if v in self.voices}
        new_voices, deltas = voice_changes({k: v for k, v in writes.voices.items() if k not in voice_ratings}, stored)
        rebuilt, emptied, rebuilt_deltas = rebuilt_voices(voice_ratings, stored)
        deltas = merge_deltas(deltas, rebuilt_deltas)
        for p, d in sorted(set(deltas) | set(writes.tallies)):
            key = aggregate_id(p, d, shard)
            self.aggregates[key] = updated_aggregate(self.aggregates.get(key), p, d, shard, deltas.get((p, d), {}),
                                                     writes.tallies.get((p, d)))
        self.voices.update((v["_id"], v) for v in new_voices + rebuilt)
        for vid in emptied:
            del self.voices[vid]
        self.exclusions.update((k, exclusion_doc(d)) for k, d in writes.exclusions.items())
        marks = {r["_id"]: r["excluded"] for r in flipped}
        self.ratings = [{**r, "excluded": marks.get(r["_id"], r["excluded"])} for r in self.ratings] + writes.ratings
        self.processed.update(m["_id"] for m in writes.processed)

    def differences(self):
        covered = coverage(self.exclusions.values())
        out = []
        for period in [*PERIODS, "2025", "2026"]:
            for department in DEPARTMENTS:
                ratings = [r for r in self.ratings if r["department"] == department and r["period"][:len(period)] ==
                           period and (len(period) == 4 or r["period"] == period)]
                stored = scoring.merge_aggregates(a for a in self.aggregates.values()
                                                  if a["period"] == period and a["department"] == department)
                out += differences(period, department, stored.get(department, {}), oracle(ratings, period, covered),
                                   sum(is_covered(r, covered) for r in ratings))
        out += [f"mark of {r['_id']}" for r in self.ratings if r["excluded"] != is_covered(r, covered)]
        return out


@st.composite
def with_exclusions(draw):
    """Random answers and visits, exclusions of some of their ratings (some restored), delivered in a random
    order with redeliveries, in batches over two workers' shards."""
    events = [draw(event(i)) for i in range(draw(st.integers(1, 15)))]
    exclusions = []
    for n, (target, whole, restored) in enumerate(draw(st.lists(st.tuples(
            st.integers(0, 14), st.booleans(), st.booleans()), max_size=8))):
        ratings_message = events[target % len(events)]
        indices = None if whole else [draw(st.integers(0, len(ratings_message["data"]["ratings"]) - 1))]
        for version in (1, 2) if restored else (1,):
            message = exclusion_event({**ratings_message, "data": {**ratings_message["data"], "enterprise": {
                "code": ratings_message["data"]["enterprise"]["code"]}}}, indices, version, f"x{n}")
            exclusions.append(messages.decode(messages.encode(message)))
    everything = events + exclusions
    order = everything + [everything[i % len(everything)] for i in draw(st.lists(st.integers(0, 30), max_size=6))]
    order = draw(st.permutations(order))
    batches, i = [], 0
    while i < len(order):
        size, shard = draw(st.integers(1, 6)), draw(st.sampled_from(["w1", "w2"]))
        batches.append((shard, order[i:i + size]))
        i += size
    return batches


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(with_exclusions())
def test_aggregates_equal_a_recomputation_without_the_excluded_whatever_the_order(batches):
    memory = Memory()
    for shard, batch in batches:
        memory.commit(batch, shard)
    assert memory.differences() == []

