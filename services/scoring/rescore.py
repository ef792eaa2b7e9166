"""`manyi rescore` and `manyi check`: the invariant that stored aggregates equal a recomputation.

Both stream one (period, department) at a time, so memory is bounded by the largest department, and
rescore switches each one over in its own transaction, never one giant transaction.
"""
import math
import time

from services.scoring.planning import (
    BatchWrites,
    add_to_voice,
    choice_tallies,
    coverage,
    flips,
    nps_category,
    updated_aggregate,
    voice_changes,
)
from services.scoring.repository import RESCORE_SHARD, ScoresStore
from shared import mongo, scoring
from shared.domain import SEGMENT_ATTRIBUTES, is_year, period_key, quarters_of, year_of

TOLERANCE = 1e-9


def is_covered(rating, covered):
    """Whether active exclusions leave this stored rating out (its id is "<message id>:<index>")."""
    indices = covered.get(rating.get("source_id"), ())  # a rating without a source is covered by nothing
    return bool(indices) and int(rating["_id"].rsplit(":", 1)[1]) in indices


def recomputed(period, department, covered=None):
    """`recompute(ratings) → (voices, aggregate)` for one (period, department), from scratch; `covered`
    ({source id: indices}, planning.coverage) says which ratings exclusions leave out."""
    def recompute(ratings):
        writes = BatchWrites()
        for rating in ratings:
            add_to_voice(writes, {**rating, "excluded": is_covered(rating, covered or {})}, (period,))
        voices, deltas = voice_changes(writes.voices, {})
        tally = writes.tallies.get((period, department))
        if not voices and not (tally or {}).get("excluded"):
            return [], None
        return voices, updated_aggregate(None, period, department, RESCORE_SHARD, deltas.get((period, department), {}),
                                         tally)
    return recompute


def periods_stored(store, period=None):
    """Every period with ratings (quarters and their years), oldest first, or just `period`.

    From the small collections only: every commit that stores a rating bumps its periods' versions in the same
    transaction. A `distinct` over the ratings took seconds at a million of them, during which the embedded
    server answers nothing else, not even the client's heartbeat, and the client gave up on it."""
    if period:
        return [period]
    quarters = {v["period"] for v in store.versions.find({}, {"period": 1}) if v["period"] != "*"}
    return sorted(quarters | {year_of(q) for q in quarters}, key=period_key)


def departments_of(store, period):
    """Every department a period may have ratings of: the registered ones (`department.changed`) and those with
    an aggregate (written in the same transaction as their ratings); not a `distinct` over the ratings."""
    return sorted({d["_id"] for d in store.departments.find({}, {"_id": 1})} |
                  set(store.aggregates.distinct("department", {"period": period})))


def oracle(ratings, period, covered=None):
    """Figures per scope recomputed the plain way (DESIGN §5 word for word, floats, no aggregates), over the
    ratings no active exclusion leaves out (`covered`, planning.coverage)."""
    ratings = [r for r in ratings if not is_covered(r, covered or {})]
    cells = list(scoring.cells_from_ratings({**r, "period": period} for r in ratings).values())
    if not cells:
        return {}
    figures = {scoring.ALL: {**scoring.index_figures(cells, 0), "channels": scoring.channel_counts(cells)}}
    for entry in scoring.indicator_indices(cells, 0):
        figures[("indicator", entry["indicator"])] = entry
    for attribute in SEGMENT_ATTRIBUTES:
        for entry in scoring.segment_indices(cells, attribute, 0):
            figures[("segment", attribute, entry["value"])] = entry
    return figures


def close(a, b):
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, list):
        return len(a) == len(b) and all(close(x, y) for x, y in zip(a, b))
    return math.isclose(a, b, rel_tol=TOLERANCE, abs_tol=TOLERANCE)


def differences(period, department, stored, fresh, excluded=0):
    """Human-readable differences between stored aggregates and recomputed figures (empty when equal);
    `excluded`: how many of the department's ratings active exclusions leave out."""
    out = []
    kept = (stored.get(scoring.ALL) or {}).get("excluded", 0)
    if kept != excluded:
        out.append(f"{period}|{department}|all: excluded stored {kept}, recomputed {excluded}")
    for scope in sorted(set(stored) | set(fresh)):
        name = f"{period}|{department}|{':'.join(scope)}"
        a, b = stored.get(scope), fresh.get(scope)
        if a is not None and a["n"] == 0 and not any((a.get("levels") or {}).values()) and b is None:
            continue  # every enterprise moved out of this scope: an empty aggregate is right
        if a is None or b is None:
            out.append(f"{name}: {'missing' if a is None else 'not backed by any rating'}")
            continue
        got = scoring.stats_figures(a, 0)
        for f in ("n", "index", "sd", "ci95"):
            if not close(got[f], b[f]) if f != "n" else got[f] != b[f]:
                out.append(f"{name}: {f} stored {got[f]!r}, recomputed {b[f]!r}")
        if scope == scoring.ALL:
            if got["levels"] != b["levels"]:
                out.append(f"{name}: levels stored {got['levels']}, recomputed {b['levels']}")
            channels = {k: v for k, v in a["channels"].items() if v}
            if channels != {k: v for k, v in b["channels"].items() if v}:
                out.append(f"{name}: channels stored {channels}, recomputed {b['channels']}")
    return out


def nps_oracle(answers):
    """Promoters, passives, detractors over each enterprise's latest answer (the plain way)."""
    latest = {}
    for doc in answers:
        seen = latest.get(doc["enterprise"])
        if seen is None or (doc["occurred_at"], doc["_id"]) > (seen["occurred_at"], seen["_id"]):
            latest[doc["enterprise"]] = doc
    counts = {"promoters": 0, "passives": 0, "detractors": 0}
    for doc in latest.values():
        counts[nps_category(doc["score"])] += 1
    return counts, latest


def nps_answers(store, period, session=None):
    return store.nps.find({"period": {"$in": quarters_of(period)}}, session=session)


def choice_oracle(answers):
    """{(period, survey, question): (answered, {option: count})} counted the plain way from stored choices."""
    counts = {}
    for doc in answers:
        for choice in doc["choices"]:
            answered, chosen = counts.setdefault((doc["period"], doc["survey"], choice["question"]), (0, {}))
            for option in set(choice["chosen"]):
                chosen[option] = chosen.get(option, 0) + 1
            counts[(doc["period"], doc["survey"], choice["question"])] = (answered + 1, chosen)
    return counts


def stored_choice_counts(docs):
    """The same shape from stored `choice_counts` documents, every worker's shard summed."""
    counts = {}
    for doc in docs:
        answered, chosen = counts.get((doc["period"], doc["survey"], doc["question"]), (0, {}))
        for c in doc["counts"]:
            if c["count"]:
                chosen[c["option"]] = chosen.get(c["option"], 0) + c["count"]
        counts[(doc["period"], doc["survey"], doc["question"])] = (answered + doc["answered"], chosen)
    return counts


def check(config, period=None, out=print):
    """Compare every stored aggregate (all scopes, every period and department) with a recomputation."""
    store = ScoresStore(config)
    diffs, aggregates = [], 0
    covered = coverage(store.exclusions.find())
    for read, group in reading_groups(periods_stored(store, period)):
        for department in sorted({d for p in group for d in departments_of(store, p)}):
            # One read of the department's ratings serves its quarters and its year (a read is most of the time).
            every = list(store.department_ratings(read, department, {"message_id": 0, "occurred_at": 0, "question": 0}))
            for p in group:
                ratings = every if p == read else [r for r in every if r["period"] == p]
                stored = scoring.merge_aggregates(store.aggregates.find({"period": p, "department": department}))
                aggregates += len(stored.get(department, {}))
                diffs += differences(p, department, stored.get(department, {}), oracle(ratings, p, covered),
                                     sum(is_covered(r, covered) for r in ratings))
        for p in group:
            diffs += other_differences(store, p)
    for line in diffs[:50]:
        out(f"✗ {line}")
    out(f"manyi check: {aggregates} aggregates, {len(diffs)} differences")
    return 1 if diffs else 0


def reading_groups(periods):
    """[(period whose ratings to read, periods checked from them)]: a year with those of its quarters listed,
    or a period alone."""
    groups = {}
    for p in periods:
        groups.setdefault(year_of(p), []).append(p)
    return [(year if len(group) > 1 or is_year(group[0]) else group[0], group) for year, group in groups.items()]


def other_differences(store, p):
    """NPS and option counts of period `p` against a recount."""
    diffs = []
    stored_nps, (fresh_nps, _) = scoring.merge_nps(store.nps_aggregates.find({"period": p})), \
        nps_oracle(nps_answers(store, p))
    if stored_nps != fresh_nps:
        diffs.append(f"{p}|nps: stored {stored_nps}, recomputed {fresh_nps}")
    if not is_year(p):
        stored_choices = stored_choice_counts(store.choice_counts.find({"period": p}))
        fresh_choices = choice_oracle(store.choices.find({"period": p}))
        for key in sorted(set(stored_choices) | set(fresh_choices)):
            if stored_choices.get(key) != fresh_choices.get(key):
                diffs.append(f"{'|'.join(key)}|choices: stored {stored_choices.get(key)}, "
                             f"recomputed {fresh_choices.get(key)}")
    return diffs


def rescore(config, period=None, out=print):
    """Rebuild voices and aggregates from the stored ratings, one (period, department) per transaction."""
    store = ScoresStore(config)
    done, started = 0, time.monotonic()
    covered = coverage(store.exclusions.find())
    remark(store, covered)
    for p in periods_stored(store, period):
        for department in departments_of(store, p):
            store.replace_department(p, department, recomputed(p, department, covered))
            done += 1
        store.replace_nps(p, lambda session, p=p: nps_oracle(nps_answers(store, p, session)))
        if not is_year(p):
            store.replace_choices(p, lambda session, p=p: choice_tallies(store.choices.find({"period": p},
                                                                                            session=session)))
        out(f"manyi rescore: {p} done ({done} departments so far, {time.monotonic() - started:.0f} s)")
    out(f"manyi rescore: {done} department aggregates recomputed from the stored ratings")
    return 0


def remark(store, covered):
    """Set every stored rating's `excluded` mark to what the active exclusions say (the worker flips marks
    when an exclusion changes; a rescore starts from the exclusions themselves).

    Only a rating that some exclusion, active or restored, has named can carry a mark (nothing else marks one),
    so those are read by id: looking for marks among all the ratings scanned a million of them (a minute)."""
    named = sorted({f"{d['source_id']}:{i}" for d in store.exclusions.find({}, {"source_id": 1, "indices": 1})
                    for i in d.get("indices", ())})
    marked = mongo.find_in(store.ratings, "_id", named, {"source_id": 1, "excluded": 1})
    changed = flips({r["_id"]: r for r in marked}.values(), covered)
    for mark in (True, False):
        mongo.update_in(store.ratings, [r["_id"] for r in changed if r["excluded"] is mark], {"$set": {"excluded": mark}})
