"""Scoring's planning of exclusions (pure, no database), against values computed by hand.

E1 rates `market` twice in 2026Q4: 5 in a survey answer (100 points) and 2 in a visit (25 points), weight 1
each, so its voice is (100 + 25) / 2 = 62.5. Excluding the visit's rating leaves 100; restoring gives 62.5.
"""
from services.scoring.planning import (
    coverage,
    exclusion_doc,
    flip_tallies,
    flips,
    merge_deltas,
    plan_batch,
    rebuilt_voices,
    voice_id,
    voices_of,
)
from shared import messages
from shared.scoring import ALL, QUANTUM, part_key, quantized, voice_scopes
from tests.factories import enterprise, exclusion_event, rating, ratings_event

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
