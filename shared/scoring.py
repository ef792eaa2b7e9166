"""The scoring method of DESIGN §5, one function per rule, pure (no I/O).

The unit of the stored aggregates is a *cell*: one enterprise's ratings of one department on one
indicator in one period, kept as Σ weight·points (`swp`), Σ weight (`sw`), the count of ratings at
each level (`levels`) and per channel (`channels`). Every figure below is derived from cells.
A cell is stored as one shard per scoring worker (DESIGN §2: workers never fight over a document);
the figures sum whatever cells they are given per enterprise, so shards need no merging first.
"""
import math
from collections import defaultdict
from functools import lru_cache

from scipy.stats import t as student_t

TIE = 1e-9
LEVELS = ("1", "2", "3", "4", "5")


def enterprise_score(swp, sw):
    """An enterprise's score: Σ weight·points / Σ weight over its ratings."""
    return swp / sw


def enterprise_scores(cells):
    """{enterprise: score} over the given cells (all indicators and channels of each enterprise)."""
    swp, sw = defaultdict(list), defaultdict(list)
    for cell in cells:
        swp[cell["enterprise"]].append(cell["swp"])
        sw[cell["enterprise"]].append(cell["sw"])
    return {e: enterprise_score(math.fsum(swp[e]), math.fsum(sw[e])) for e in swp}


@lru_cache(maxsize=4096)
def t_quantile(df):
    """t(0.975, df) of Student's distribution."""
    return float(student_t.ppf(0.975, df))


def mean_sd_ci(scores):
    """(mean, sample sd, [low, high]) of enterprise scores; sd and interval None when n < 2."""
    n = len(scores)
    if n == 0:
        return None, None, None
    mean = math.fsum(scores) / n
    if n < 2:
        return mean, None, None
    sd = math.sqrt(math.fsum((s - mean) ** 2 for s in scores) / (n - 1))
    half = t_quantile(n - 1) * sd / math.sqrt(n)
    return mean, sd, [mean - half, mean + half]


def level_counts(cells):
    """Ratings (not enterprises) at each level 1–5."""
    counts = {lv: 0 for lv in LEVELS}
    for cell in cells:
        for lv, k in cell.get("levels", {}).items():
            counts[lv] += k
    return counts


def satisfied_rate(levels):
    """Share of ratings at levels 3–5."""
    total = sum(levels.values())
    return (levels["3"] + levels["4"] + levels["5"]) / total if total else None


def bad_rate(levels):
    """差评率: share of ratings at levels 1–2."""
    total = sum(levels.values())
    return (levels["1"] + levels["2"]) / total if total else None


def is_suppressed(n, min_n):
    return n < min_n


def index_figures(cells, min_n):
    """n, index, sd, ci95, levels and rates of a set of cells, withheld below `min_n` enterprises."""
    scores = list(enterprise_scores(cells).values())
    n = len(scores)
    if is_suppressed(n, min_n):
        return {"n": n, "index": None, "sd": None, "ci95": None, "levels": None,
                "satisfied_rate": None, "bad_rate": None, "suppressed": True}
    index, sd, ci95 = mean_sd_ci(scores)
    levels = level_counts(cells)
    return {"n": n, "index": index, "sd": sd, "ci95": ci95, "levels": levels,
            "satisfied_rate": satisfied_rate(levels), "bad_rate": bad_rate(levels), "suppressed": False}


def department_index(cells, min_n):
    """A department's index over all its cells in a period."""
    return index_figures(cells, min_n)


def indicator_indices(cells, min_n):
    """Per-indicator figures of one department: [{indicator, n, index, sd, ci95, suppressed}]."""
    by_indicator = defaultdict(list)
    for cell in cells:
        by_indicator[cell["indicator"]].append(cell)
    out = []
    for indicator in sorted(by_indicator):
        f = index_figures(by_indicator[indicator], min_n)
        out.append({"indicator": indicator, "n": f["n"], "index": f["index"], "sd": f["sd"],
                    "ci95": f["ci95"], "suppressed": f["suppressed"]})
    return out


def channel_counts(cells):
    counts = {"survey": 0, "visit": 0}
    for cell in cells:
        for ch, k in cell.get("channels", {}).items():
            counts[ch] = counts.get(ch, 0) + k
    return counts


def competition_ranks(indices):
    """Ranks (1, 2, 2, 4) of the given indices, highest first; equal within 1e-9 share a rank."""
    return [1 + sum(1 for other in indices if other > mine + TIE) for mine in indices]


def is_laggard(index, ranked_indices, bottom, below=None):
    """落后单位: fewer than `bottom` ranked departments strictly below it, or index below `below`."""
    strictly_below = sum(1 for other in ranked_indices if other < index - TIE)
    return strictly_below < bottom or (below is not None and index < below)


def rank_departments(entries, bottom, below=None):
    """Set `rank` and `laggard` on department entries in place; suppressed ones stay unranked."""
    ranked = [e for e in entries if not e["suppressed"]]
    indices = [e["index"] for e in ranked]
    for entry, rank in zip(ranked, competition_ranks(indices)):
        entry["rank"] = rank
        entry["laggard"] = is_laggard(entry["index"], indices, bottom, below)
    for entry in entries:
        if entry["suppressed"]:
            entry["rank"], entry["laggard"] = None, False
    return entries


def nps(scores, min_n):
    """Net Promoter Score over 0–10 answers: 100 × (promoters 9–10 − detractors 0–6) / respondents."""
    n = len(scores)
    promoters = sum(1 for s in scores if s >= 9)
    detractors = sum(1 for s in scores if s <= 6)
    passives = n - promoters - detractors
    if is_suppressed(n, min_n):
        return {"n": n, "nps": None, "promoters": None, "passives": None, "detractors": None,
                "suppressed": True}
    return {"n": n, "nps": 100 * (promoters - detractors) / n, "promoters": promoters,
            "passives": passives, "detractors": detractors, "suppressed": False}


def cell_key(period, department, indicator, enterprise):
    return f"{period}|{department}|{indicator}|{enterprise}"


def merge_shards(cells):
    """{cell key: cell} with the shards of each cell (one per scoring worker) summed."""
    merged = {}
    for shard in cells:
        cell = merged.setdefault(shard["key"], {"key": shard["key"], "swp": [], "sw": [], "levels": {},
                                               "channels": {}})
        cell["swp"].append(shard["swp"])
        cell["sw"].append(shard["sw"])
        for group in ("levels", "channels"):
            for name, k in (shard.get(group) or {}).items():
                cell[group][name] = cell[group].get(name, 0) + k
    for cell in merged.values():
        cell["swp"], cell["sw"] = math.fsum(cell["swp"]), math.fsum(cell["sw"])
    return merged


def cells_from_ratings(ratings):
    """Recompute cells from scratch out of stored ratings (what `manyi rescore` and `check` use)."""
    cells = {}
    for r in ratings:
        key = cell_key(r["period"], r["department"], r["indicator"], r["enterprise"])
        # A rating speaks in the segment its enterprise had when it was given: one cell per snapshot.
        cell = cells.setdefault((key, tuple(sorted(r["segment"].items()))), {"_id": key, "period": r["period"], "department": r["department"],
                                      "indicator": r["indicator"], "enterprise": r["enterprise"],
                                      "swp": [], "sw": [], "levels": {}, "channels": {},
                                      "segment": r["segment"]})
        cell["swp"].append(r["weight"] * r["points"])
        cell["sw"].append(r["weight"])
        lv = str(r["level"])
        cell["levels"][lv] = cell["levels"].get(lv, 0) + 1
        cell["channels"][r["channel"]] = cell["channels"].get(r["channel"], 0) + 1
    for cell in cells.values():
        cell["swp"], cell["sw"] = math.fsum(cell["swp"]), math.fsum(cell["sw"])
    return cells


def welch_df(var_a, n_a, var_b, n_b):
    """Welch–Satterthwaite degrees of freedom of a difference of two means (sample variances)."""
    qa, qb = var_a / n_a, var_b / n_b
    return (qa + qb) ** 2 / (qa ** 2 / (n_a - 1) + qb ** 2 / (n_b - 1))


def welch_interval(mean_a, sd_a, n_a, mean_b, sd_b, n_b):
    """95% interval of mean_a − mean_b (Welch: unequal variances, Student t at the Welch–Satterthwaite df).

    None when either side has fewer than two enterprises. Both sds zero leave no spread to estimate:
    the interval is the difference itself.
    """
    if n_a < 2 or n_b < 2 or sd_a is None or sd_b is None:
        return None
    diff = mean_a - mean_b
    se = math.sqrt(sd_a ** 2 / n_a + sd_b ** 2 / n_b)
    if se == 0:
        return [diff, diff]
    half = t_quantile(welch_df(sd_a ** 2, n_a, sd_b ** 2, n_b)) * se
    return [diff - half, diff + half]


def segment_indices(cells, attribute, min_n):
    """Per value of a segment attribute: [{value, n, index, sd, ci95, suppressed}], by value.

    A rating counts in the segment its enterprise had when it was given (the cell's `segment`,
    event-carried), so an enterprise whose attribute changed mid-period speaks in each segment
    only with the ratings it gave there.
    """
    by_value = defaultdict(list)
    for cell in cells:
        value = (cell.get("segment") or {}).get(attribute)
        if value is not None:
            by_value[value].append(cell)
    out = []
    for value in sorted(by_value):
        f = index_figures(by_value[value], min_n)
        out.append({"value": value, "n": f["n"], "index": f["index"], "sd": f["sd"], "ci95": f["ci95"],
                    "suppressed": f["suppressed"]})
    return out


def equal_treatment_gap(segments):
    """Highest minus lowest unsuppressed segment index, with a Welch 95% interval of that difference.

    {value, high, low, ci95}: `high` and `low` name the segments (their attribute values); all
    null when fewer than two segments are unsuppressed. Equal indices resolve by value order.
    """
    shown = sorted((s for s in segments if not s["suppressed"]), key=lambda s: (-s["index"], s["value"]))
    if len(shown) < 2:
        return {"value": None, "high": None, "low": None, "ci95": None}
    high, low = shown[0], shown[-1]
    return {"value": high["index"] - low["index"], "high": high["value"], "low": low["value"],
            "ci95": welch_interval(high["index"], high["sd"], high["n"], low["index"], low["sd"], low["n"])}


def is_significant(ci95):
    """A difference is significant at 95% when its interval excludes zero."""
    return ci95 is not None and (ci95[0] > 0 or ci95[1] < 0)


def period_change(previous, current):
    """Change of an index from the previous period: {change, change_ci95, change_significant} (Welch).

    Null when either period is suppressed or absent (`previous`/`current` are index figures or None).
    """
    if not previous or not current or previous["index"] is None or current["index"] is None:
        return {"change": None, "change_ci95": None, "change_significant": None}
    ci95 = welch_interval(current["index"], current["sd"], current["n"],
                          previous["index"], previous["sd"], previous["n"])
    return {"change": current["index"] - previous["index"], "change_ci95": ci95,
            "change_significant": is_significant(ci95)}


def trend(figures_by_period, periods, min_n):
    """[{period, n, index, suppressed, change, change_ci95, change_significant}] over `periods` (consecutive
    quarters, oldest first, preceded by the quarter before the first one for its change).

    A quarter without ratings is listed with n 0 (suppressed); the change is always from the
    immediately preceding quarter, so a gap in the data shows as no change rather than a jump
    across it.
    """
    empty = index_figures([], min_n)
    out = []
    for previous, period in zip(periods, periods[1:]):
        current = figures_by_period.get(period) or empty
        out.append({"period": period, "n": current["n"], "index": current["index"],
                    "suppressed": current["suppressed"],
                    **period_change(figures_by_period.get(previous), current)})
    return out


# --- Sufficient statistics: what the worker maintains so that a read is O(departments) ---------------
# An enterprise's *voice* for a department in a period is its ratings of that department, kept as parts
# (one per indicator and segment snapshot: Σw·p, Σw, count). A *scope* is what a figure is restricted
# to: ("all",), ("indicator", name) or ("segment", attribute, value). Per (period, department, scope)
# the worker keeps n, Σq and Σq² of the enterprises' scores q, quantized to integer multiples of
# 2^-QUANTUM_BITS: integer sums never drift however often a score is replaced (adding and removing
# floats would), and mean and variance then come out of exact integer arithmetic. Quantizing moves a
# score by at most 2^-37 ≈ 7e-12, the mean and sd by no more than that (the sd is a seminorm):
# far inside the 1e-9 the invariant allows.
QUANTUM_BITS = 36
QUANTUM = 1 << QUANTUM_BITS
ALL = ("all",)


def quantized(score):
    """A score as an integer number of quanta (exact for binary fractions such as 62.5)."""
    return round(score * QUANTUM)


def part_key(part):
    """Parts of one voice are told apart by indicator and segment snapshot."""
    return (part["indicator"], tuple(sorted((part.get("segment") or {}).items())))


def voice_scopes(parts):
    """{scope: score} of one enterprise's voice: over all its parts, each indicator, each segment value.

    A rating speaks in the segment its enterprise had when it was given (the part's snapshot), so an
    enterprise whose attribute changed mid-period speaks in each segment only with the ratings given there.
    """
    sums = defaultdict(lambda: ([], []))
    for part in parts:
        if not part["sw"]:
            continue
        scopes = [ALL, ("indicator", part["indicator"])]
        scopes += [("segment", attr, value) for attr, value in (part.get("segment") or {}).items()
                   if value is not None]
        for scope in scopes:
            sums[scope][0].append(part["swp"])
            sums[scope][1].append(part["sw"])
    return {scope: enterprise_score(math.fsum(swp), math.fsum(sw)) for scope, (swp, sw) in sums.items()}


def replace_voice(deltas, old_scores, new_scores):
    """Accumulate into `deltas` ({scope: [n, Σq, Σq²]}) the change from an enterprise's old scores to its new."""
    for scopes, sign in ((old_scores, -1), (new_scores, 1)):
        for scope, score in scopes.items():
            q = quantized(score)
            d = deltas.setdefault(scope, [0, 0, 0])
            d[0] += sign
            d[1] += sign * q
            d[2] += sign * q * q
    return deltas


def stats_mean_sd_ci(n, s1, s2):
    """(mean, sample sd, [low, high]) from n, Σq, Σq² (integers, in quanta); as `mean_sd_ci`."""
    if n <= 0:
        return None, None, None
    mean = s1 / (n * QUANTUM)
    if n < 2:
        return mean, None, None
    sd = math.sqrt((n * s2 - s1 * s1) / (n * (n - 1) * QUANTUM * QUANTUM))
    half = t_quantile(n - 1) * sd / math.sqrt(n)
    return mean, sd, [mean - half, mean + half]


def stats_figures(stats, min_n):
    """n, index, sd, ci95, levels and rates of one scope's statistics ({n, s1, s2, levels?}), withheld below
    `min_n` enterprises (the same shape as `index_figures`)."""
    n = stats["n"] if stats else 0
    if is_suppressed(n, min_n):
        return {"n": n, "index": None, "sd": None, "ci95": None, "levels": None,
                "satisfied_rate": None, "bad_rate": None, "suppressed": True}
    index, sd, ci95 = stats_mean_sd_ci(n, stats["s1"], stats["s2"])
    levels = {lv: (stats.get("levels") or {}).get(lv, 0) for lv in LEVELS}
    return {"n": n, "index": index, "sd": sd, "ci95": ci95, "levels": levels,
            "satisfied_rate": satisfied_rate(levels), "bad_rate": bad_rate(levels), "suppressed": False}


def merge_aggregates(docs):
    """{department: {scope: {n, s1, s2, levels, channels, excluded}}} summed over the shards (one per worker) of
    aggregate documents; integers stored as decimal strings (they outgrow 64 bits)."""
    merged = defaultdict(dict)
    for doc in docs:
        by_scope = merged[doc["department"]]
        for entry in doc.get("scopes", []):
            stats = by_scope.setdefault(tuple(entry["scope"]), {"n": 0, "s1": 0, "s2": 0, "levels": {},
                                                                 "channels": {}, "excluded": 0})
            stats["n"] += entry["n"]
            stats["excluded"] += entry.get("excluded", 0)  # ratings left out after review (issue 16)
            stats["s1"] += int(entry["s1"])
            stats["s2"] += int(entry["s2"])
            for group in ("levels", "channels"):
                for name, k in (entry.get(group) or {}).items():
                    stats[group][name] = stats[group].get(name, 0) + k
    return merged


def merge_nps(docs):
    """Promoter, passive and detractor counts summed over the shards of a period's NPS aggregates."""
    counts = {"promoters": 0, "passives": 0, "detractors": 0}
    for doc in docs:
        for k in counts:
            counts[k] += doc.get(k, 0)
    return counts
