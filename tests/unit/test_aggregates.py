"""The worker's incremental aggregates against a from-scratch recomputation (DESIGN §5's invariant).

Random sequences of answers, visits, redeliveries and enterprises rating again (and changing segment),
split into random batches over two competing workers' shards, are applied the way the repository
applies a transaction, in memory; every figure derived from the aggregates must equal the plain
recomputation over the ratings to 1e-9, in every quarter and every year.
"""
import math
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.figures import figures_of
from services.scoring.planning import (
    aggregate_id,
    nps_changes,
    nps_id,
    periods_of,
    plan_batch,
    updated_aggregate,
    updated_nps_aggregate,
    voice_changes,
)
from services.scoring.rescore import differences, nps_oracle, oracle
from shared import messages, scoring
from shared.config import load
from tests.factories import enterprise, rating, ratings_event

ENTERPRISES = [f"E{i}" for i in range(7)]
DEPARTMENTS = ["market", "tax", "land"]
INDICATORS = ["general", "speed"]
PERIODS = ["2025Q4", "2026Q1", "2026Q2"]
T0 = datetime(2026, 1, 5, tzinfo=UTC)


class Memory:
    """The collections a transaction touches, in memory; `commit` mirrors ScoresStore.apply_transaction."""

    def __init__(self):
        self.processed, self.ratings, self.nps = set(), [], []
        self.voices, self.aggregates, self.nps_voices, self.nps_aggregates = {}, {}, {}, {}

    def commit(self, batch, shard):
        writes = plan_batch(batch, self.processed, {})
        if not writes:
            return
        new_voices, deltas = voice_changes(writes.voices, {v: self.voices[v] for v in writes.voices
                                                           if v in self.voices})
        for p, d in sorted(set(deltas) | set(writes.tallies)):
            key = aggregate_id(p, d, shard)
            self.aggregates[key] = updated_aggregate(self.aggregates.get(key), p, d, shard, deltas.get((p, d), {}),
                                                     writes.tallies.get((p, d)))
        self.voices.update((v["_id"], v) for v in new_voices)
        self.processed.update(m["_id"] for m in writes.processed)
        self.ratings += writes.ratings
        self.nps += writes.nps
        ids = {nps_id(p, a["enterprise"]) for a in writes.nps for p in periods_of(a["period"])}
        nps_voices, nps_deltas = nps_changes(writes.nps, {i: self.nps_voices[i] for i in ids if i in self.nps_voices})
        self.nps_voices.update((v["_id"], v) for v in nps_voices)
        for p, delta in nps_deltas.items():
            key = f"{p}#{shard}"
            self.nps_aggregates[key] = updated_nps_aggregate(self.nps_aggregates.get(key), p, shard, delta)

    def differences(self):
        out = []
        for period in [*PERIODS, "2025", "2026"]:
            for department in DEPARTMENTS:
                ratings = [r for r in self.ratings if r["department"] == department and r["period"][:len(period)] ==
                           period and (len(period) == 4 or r["period"] == period)]
                stored = scoring.merge_aggregates(a for a in self.aggregates.values()
                                                  if a["period"] == period and a["department"] == department)
                out += differences(period, department, stored.get(department, {}), oracle(ratings, period))
            stored_nps = scoring.merge_nps(a for a in self.nps_aggregates.values() if a["period"] == period)
            answers = [a for a in self.nps if a["period"].startswith(period)]
            want = nps_oracle([{**a, "occurred_at": a["occurred_at"].replace(
                microsecond=a["occurred_at"].microsecond // 1000 * 1000)} for a in answers])[0]
            if stored_nps != want:
                out.append(f"{period} nps {stored_nps} != {want}")
        return out


SEGMENTS = [{"scale": scale, "ownership": own, "capital": cap, "township": town, "industry": "制造业"}
            for scale, own, cap, town in (("large", "state", "domestic", "城关镇"), ("small", "private", "domestic", "城关镇"),
                                          ("small", "private", "foreign", "新区"), ("micro", "collective", "domestic", "新区"))]
WEIGHTS, POINTS = (1.0, 2.0, 0.5, 1.5, 0.1), (0.0, 25.0, 50.0, 62.5, 75.0, 100.0, 33.3, 66.7)


@st.composite
def event(draw, serial):
    """One answer or visit, built from a few small integers (cheap to draw and to shrink)."""
    e, s, p, c, nps = (draw(st.integers(0, n - 1)) for n in (len(ENTERPRISES), len(SEGMENTS), len(PERIODS), 2, 12))
    ratings = [{"department": DEPARTMENTS[d % 3], "indicator": INDICATORS[d % 2], "weight": WEIGHTS[w % 5],
                "level": 1 + lv % 5, "points": POINTS[lv % 8], "question": None}
               for d, w, lv in draw(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 4), st.integers(0, 39)),
                                             min_size=1, max_size=4))]
    channel = ("survey", "visit")[c]
    return {"type": messages.RESPONSE_SUBMITTED if c == 0 else messages.VISIT_RECORDED, "id": f"m{serial}",
            "schema_version": 1, "occurred_at": T0 + timedelta(microseconds=draw(st.integers(0, 10 ** 7))),
            "data": {"source_id": f"m{serial}", "channel": channel, "period": PERIODS[p],
                     "enterprise": {"code": ENTERPRISES[e], **SEGMENTS[s]}, "ratings": ratings,
                     "nps": nps if channel == "survey" and nps <= 10 else None}}


@st.composite
def deliveries(draw):
    """Events, then the order they are delivered in (with redeliveries), cut into batches per worker."""
    events = [draw(event(i)) for i in range(draw(st.integers(1, 25)))]
    order = events + [events[i % len(events)] for i in draw(st.lists(st.integers(0, 24), max_size=6))]
    order = draw(st.permutations(order))
    batches, i = [], 0
    for size, shard in draw(st.lists(st.tuples(st.integers(1, 6), st.sampled_from(["w1", "w2"])),
                                     min_size=len(order), max_size=len(order))):
        if i < len(order):
            batches.append((shard, order[i:i + size]))
            i += size
    return batches


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(deliveries())
def test_incremental_aggregates_equal_a_recomputation(batches):
    memory = Memory()
    for shard, batch in batches:
        memory.commit(batch, shard)
    assert memory.differences() == []


def test_an_enterprise_rating_again_is_one_voice_replaced_not_added():
    """Hand-computed: E rates market 100 then 0 (weights 1 and 3); F rates 50. Scores: E = 25, F = 50."""
    memory = Memory()
    ent = {"code": "E", "scale": "small", "ownership": "private", "capital": "domestic", "township": "城关镇",
           "industry": "制造业"}

    def answer(source, code, points, weight, period="2026Q1"):
        return messages.decode(messages.encode(messages.envelope(messages.RESPONSE_SUBMITTED, {
            "source_id": source, "channel": "survey", "period": period, "enterprise": {**ent, "code": code},
            "ratings": [{"department": "market", "indicator": "general", "weight": weight, "level": 3,
                         "points": points}], "nps": None}, id_=source)))
    memory.commit([answer("a", "E", 100.0, 1.0)], "w1")
    memory.commit([answer("b", "F", 50.0, 1.0)], "w2")
    memory.commit([answer("c", "E", 0.0, 3.0, period="2026Q2")], "w2")
    config = load({"MANYI_MIN_N": "1"})
    q1 = figures_of([a for a in memory.aggregates.values() if a["period"] == "2026Q1"], {}, config)
    year = figures_of([a for a in memory.aggregates.values() if a["period"] == "2026"], {}, config)
    assert q1.by_code["market"]["n"] == 2 and q1.by_code["market"]["index"] == 75.0  # (100 + 50) / 2
    # The year: E's score is (1·100 + 3·0) / (1 + 3) = 25, one voice; F's is 50; index 37.5.
    entry = year.by_code["market"]
    assert entry["n"] == 2 and entry["index"] == 37.5
    assert math.isclose(entry["sd"], math.sqrt(((25 - 37.5) ** 2 + (50 - 37.5) ** 2) / 1), rel_tol=1e-12)
    assert entry["levels"] == {"1": 0, "2": 0, "3": 3, "4": 0, "5": 0}  # ratings, not enterprises
    assert memory.differences() == []


def test_the_derivation_is_exact_for_binary_fractions():
    """Quantized sums: 62.5 and 37.5 are exact, so mean and sd come out exactly."""
    stats = {"n": 2, "s1": scoring.quantized(62.5) + scoring.quantized(37.5),
             "s2": scoring.quantized(62.5) ** 2 + scoring.quantized(37.5) ** 2}
    mean, sd, _ = scoring.stats_mean_sd_ci(stats["n"], stats["s1"], stats["s2"])
    assert mean == 50.0 and sd == math.sqrt(2 * 12.5 ** 2)


def test_a_batch_carries_each_department_indicator_name_newest_last():
    first = ratings_event(enterprise(), [{**rating("market", 5, "licensing"), "indicator_name": "许可办理"},
                                         {**rating("tax", 4, "licensing"), "indicator_name": "纳税服务"}])
    renamed = ratings_event(enterprise(), [{**rating("market", 3, "licensing"), "indicator_name": "许可证办理"},
                                           rating("land", 5, "registration")])  # an older message: no name
    writes = plan_batch([first, renamed], set())
    assert writes.indicators == {"market|licensing": "许可证办理", "tax|licensing": "纳税服务"}
