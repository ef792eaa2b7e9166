"""Disclosure control of published figures (DESIGN §9): pure functions, no I/O.

Withholding a figure drawn from fewer than `MANYI_MIN_N` enterprises (primary suppression, shared/scoring.py)
is not enough when the parts of a breakdown add up to a published whole: a department's index over six
enterprises and its domestic segment over five give the one foreign enterprise's score by subtraction
(6 × 66.67 − 5 × 80 = 0). So, as statistical offices do, the hidden parts of every breakdown must together
cover at least `min_n` enterprises (or none at all); if they do not, more parts are hidden, the smallest
first (complementary suppression). A hidden part publishes neither its figures nor its `n` (`"n": null`):
its size would give the hidden total away, and with it a lone enterprise's presence.

Breakdowns protected here (the gateway applies them to what `portal` keys read):
- segments of an attribute within a department (`segment_breakdown`; every value seen in the period is
  listed, so that a value's mere presence does not tell a department's lone rater's profile);
- indicators within a department (`protect_parts`);
- a department's channel counts, withheld with its index (`channel_counts`);
- demand figures of a department, withheld when its demands come from fewer than `min_n` enterprises
  (`demand_figures`): the 差评 count of a department rated by one enterprise is that enterprise's rating.
"""

SEGMENT_FIGURES = ("n", "index", "sd", "ci95")
DEMAND_COUNTS = ("received", "assigned_within_1_day", "resolved", "resolved_on_time", "on_time_rate", "open",
                 "overdue", "callback_n", "callback_index")


def hidden_parts(sizes, min_n):
    """Indices of the parts to hide, given each part's size in enterprises.

    Primary: every part below `min_n` (an empty part too: its emptiness says where the others are). Then,
    while the hidden parts together cover some but fewer than `min_n` enterprises, the smallest shown part
    is hidden as well (ties by position), so that the whole minus the shown parts isolates no one.
    """
    hidden = {i for i, n in enumerate(sizes) if n < min_n}
    shown = sorted((i for i in range(len(sizes)) if i not in hidden), key=lambda i: (sizes[i], i))
    while shown and 0 < sum(sizes[i] for i in hidden) < min_n:
        hidden.add(shown.pop(0))
    return hidden


def hidden_cover(sizes, hidden):
    """How many enterprises the hidden parts cover together (what an attacker could recover as one group)."""
    return sum(sizes[i] for i in hidden)


def withhold(part, fields):
    """A part with its figures and `n` withheld."""
    return {**part, **{f: None for f in fields if f in part}, "suppressed": True}


def protect_parts(parts, min_n, fields=SEGMENT_FIGURES):
    """The parts of one breakdown (dicts with `n`) with complementary suppression applied."""
    hidden = hidden_parts([p["n"] for p in parts], min_n)
    return [withhold(p, fields) if i in hidden else {**p, "suppressed": False} for i, p in enumerate(parts)]


def segment_breakdown(segments, values, min_n):
    """A department's segments over every value in `values` (those seen in the period, county-wide), protected.

    A value the department's raters lack is listed as an empty part, hidden like the small ones.
    """
    by_value = {s["value"]: s for s in segments}
    parts = [by_value.get(v) or {"value": v, "n": 0, "index": None, "sd": None, "ci95": None, "suppressed": True}
             for v in sorted(set(values) | set(by_value))]
    return protect_parts(parts, min_n)


def channel_counts(channels, department_suppressed):
    """Rating counts per channel, published only with the department's own index."""
    return None if department_suppressed else channels


def demand_figures(figures, enterprises, min_n):
    """One department's demand figures, withheld whole when its demands come from fewer than `min_n`
    enterprises (`enterprises`: how many distinct ones raised them; none is nothing to protect)."""
    if 0 < enterprises < min_n:
        return {**figures, **{f: None for f in DEMAND_COUNTS}, "suppressed": True}
    return figures


# --- between releases ---------------------------------------------------------------------------------
# A second release of a period differs from the first by the answers that came in between (late visits). If
# fewer than `min_n` enterprises changed a department's figures, the two releases side by side give their
# answers away, just as live figures read before and after one answer would. So a new release holds such a
# department at its previous release's documents until the changes cover at least `min_n` enterprises.

def _rounded(x):
    return round(x, 9) if isinstance(x, float) else x


def _canonical(value):
    if isinstance(value, dict):
        return tuple(sorted((k, _canonical(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return tuple(_canonical(v) for v in value)
    return _rounded(value)


def enterprise_states(cells):
    """{(department, enterprise): what the enterprise's ratings say}: of voices (the worker's one document per
    period, department and enterprise, its `parts`), or of cells (shards merged)."""
    voices = {(c["department"], c["enterprise"]): _canonical(c["parts"]) for c in cells if "parts" in c}
    if voices:
        return voices
    merged = {}
    for c in cells:
        key = (c["department"], c["enterprise"])
        part = merged.setdefault(key, {}).setdefault(c["indicator"], [0.0, 0.0, {}])
        part[0] += c["swp"]
        part[1] += c["sw"]
        for lv, k in (c.get("levels") or {}).items():
            part[2][lv] = part[2].get(lv, 0) + k
    return {key: tuple(sorted((ind, _rounded(p[0]), _rounded(p[1]), tuple(sorted(p[2].items())))
                              for ind, p in by_indicator.items()))
            for key, by_indicator in merged.items()}


def changed_enterprises(before, after):
    """{department: enterprises whose ratings of it differ} between two sets of cells."""
    old, new = enterprise_states(before), enterprise_states(after)
    changed = {}
    for key in set(old) | set(new):
        if old.get(key) != new.get(key):
            changed.setdefault(key[0], set()).add(key[1])
    return changed


def held_back_departments(before, after, min_n):
    """Departments whose figures fewer than `min_n` (but some) enterprises changed since the previous release."""
    return sorted(d for d, ents in changed_enterprises(before, after).items() if 0 < len(ents) < min_n)


def nps_held_back(before, after, min_n):
    """The county's NPS answers changed by fewer than `min_n` (but some) enterprises since the previous release."""
    def latest(docs):
        out = {}
        for d in docs:
            seen = out.get(d["enterprise"])
            if seen is None or (str(d.get("occurred_at")), str(d["_id"])) > \
                    (str(seen.get("occurred_at")), str(seen["_id"])):
                out[d["enterprise"]] = d
        return {e: d["score"] for e, d in out.items()}
    old, new = latest(before), latest(after)
    changed = {e for e in set(old) | set(new) if old.get(e) != new.get(e)}
    return 0 < len(changed) < min_n


def choices_held_back(before, after, min_n):
    """Some question's option counts (`choice_counts` documents, any shards) were answered by fewer than `min_n`
    (but some) more enterprises since the previous release: two releases side by side would show what they chose."""
    def answered(docs):
        out = {}
        for d in docs:
            key = (d["period"], d["survey"], d["question"])
            out[key] = out.get(key, 0) + d["answered"]
        return out
    old, new = answered(before), answered(after)
    return any(0 < abs(new.get(k, 0) - old.get(k, 0)) < min_n for k in set(old) | set(new))


def demand_departments_held_back(before, after, min_n):
    """Departments whose new demands since the previous release come from fewer than `min_n` (but some)
    enterprises: a count that moves by one 差评 between two releases is that enterprise's rating."""
    known = {d["_id"] for d in before}
    raisers = {}
    for d in after:
        if d["_id"] not in known:
            raisers.setdefault(d["department"], set()).add(d.get("raised_by"))
    return sorted(dept for dept, who in raisers.items() if 0 < len(who) < min_n)
