"""What a batch of validated events writes: pure functions from messages to documents (no I/O)."""
import math
from dataclasses import dataclass, field

from shared import messages
from shared.domain import SEGMENT_ATTRIBUTES, quarters_of, year_of
from shared.scoring import part_key, replace_voice, voice_scopes


@dataclass
class BatchWrites:
    processed: list = field(default_factory=list)
    ratings: list = field(default_factory=list)
    voices: dict = field(default_factory=dict)  # voice id → {period, department, enterprise, parts: {key: part}}
    tallies: dict = field(default_factory=dict)  # (period, department) → {"levels": {...}, "channels": {...}}
    nps: list = field(default_factory=list)
    departments: dict = field(default_factory=dict)
    periods: set = field(default_factory=set)
    demands: dict = field(default_factory=dict)  # demand id → newest state in this batch (not older than stored)
    releases: list = field(default_factory=list)  # period.released data: snapshot the period after this batch
    # "department|indicator" → what the survey calls it (its questions' text differs per department; newest wins)
    indicators: dict = field(default_factory=dict)
    exclusions: dict = field(default_factory=dict)  # exclusion id → newest state in this batch (newer than stored)
    choices: list = field(default_factory=list)  # per survey answer with choice questions: what it chose

    def __bool__(self):
        return bool(self.processed)


def rating_docs(message, excluded=frozenset()):
    """The rating documents of a ratings message; those whose index is in `excluded` are born excluded."""
    data = message["data"]
    enterprise = data["enterprise"]
    segment = {k: enterprise[k] for k in SEGMENT_ATTRIBUTES}
    for i, r in enumerate(data["ratings"]):
        yield {"_id": f"{message['id']}:{i}", "message_id": message["id"], "source_id": data["source_id"],
               "channel": data["channel"], "period": data["period"], "enterprise": enterprise["code"],
               "segment": segment, "department": r["department"], "indicator": r["indicator"],
               "question": r.get("question"), "weight": r["weight"], "level": r["level"], "points": r["points"],
               "occurred_at": message["occurred_at"], "excluded": i in excluded}


def periods_of(period):
    """A rating counts in its quarter and in its year (DESIGN §9: a year is a period too)."""
    return (period, year_of(period))


def voice_id(period, department, enterprise):
    return f"{period}|{department}|{enterprise}"


def tally_of(writes, period, department):
    return writes.tallies.setdefault((period, department), {"levels": {}, "channels": {}, "excluded": 0})


def add_to_voice(writes, rating, periods=None):
    """Add a rating to its enterprise's voices (quarter and year) and to the level and channel tallies; an
    excluded rating only to the count of excluded ratings (figures say how many they leave out)."""
    for period in periods or periods_of(rating["period"]):
        if rating.get("excluded"):
            tally_of(writes, period, rating["department"])["excluded"] += 1
            continue
        vid = voice_id(period, rating["department"], rating["enterprise"])
        voice = writes.voices.setdefault(vid, {"period": period, "department": rating["department"],
                                               "enterprise": rating["enterprise"], "parts": {}})
        part = {"indicator": rating["indicator"], "segment": rating["segment"], "swp": [], "sw": [], "levels": {}}
        part = voice["parts"].setdefault(part_key(part), part)
        part["swp"].append(rating["weight"] * rating["points"])
        part["sw"].append(rating["weight"])
        lv = str(rating["level"])
        part["levels"][lv] = part["levels"].get(lv, 0) + 1
        tally = tally_of(writes, period, rating["department"])
        tally["levels"][lv] = tally["levels"].get(lv, 0) + 1
        tally["channels"][rating["channel"]] = tally["channels"].get(rating["channel"], 0) + 1


def merged_voice(stored, added):
    """The voice document after adding this batch's parts to the stored ones (stored None: a new voice)."""
    parts = {part_key(p): dict(p) for p in (stored or {}).get("parts", [])}
    for key, part in added["parts"].items():
        into = parts.setdefault(key, {"indicator": part["indicator"], "segment": part["segment"],
                                      "swp": 0.0, "sw": 0.0, "levels": {}})
        into["swp"] = math.fsum([into["swp"], *part["swp"]])
        into["sw"] = math.fsum([into["sw"], *part["sw"]])
        into["levels"] = {lv: into["levels"].get(lv, 0) + part["levels"].get(lv, 0)
                          for lv in sorted(set(into["levels"]) | set(part["levels"]))}
    return {"_id": voice_id(added["period"], added["department"], added["enterprise"]), "period": added["period"],
            "department": added["department"], "enterprise": added["enterprise"],
            "parts": sorted(parts.values(), key=part_key)}


def voice_changes(voices, stored):
    """New voice documents and, per (period, department), each scope's change of n, Σq, Σq²: the
    enterprise's old scores replaced by its new ones (one enterprise, one voice)."""
    new_voices, deltas = [], {}
    for vid, added in voices.items():
        old = stored.get(vid)
        new = merged_voice(old, added)
        new_voices.append(new)
        replace_voice(deltas.setdefault((added["period"], added["department"]), {}),
                      voice_scopes(old["parts"]) if old else {}, voice_scopes(new["parts"]))
    return new_voices, deltas


def updated_aggregate(doc, period, department, shard, deltas, tally):
    """This worker's shard of a (period, department) aggregate with the batch's changes applied."""
    scopes = {tuple(e["scope"]): e for e in (doc or {}).get("scopes", [])}
    for scope, (dn, ds1, ds2) in deltas.items():
        entry = scopes.setdefault(scope, {"scope": list(scope), "n": 0, "s1": "0", "s2": "0"})
        entry["n"] += dn
        entry["s1"] = str(int(entry["s1"]) + ds1)
        entry["s2"] = str(int(entry["s2"]) + ds2)
    if tally:
        entry = scopes.setdefault(("all",), {"scope": ["all"], "n": 0, "s1": "0", "s2": "0"})
        for group in ("levels", "channels"):
            counts = entry.setdefault(group, {})
            for name, k in tally[group].items():
                counts[name] = counts.get(name, 0) + k
        if tally.get("excluded") or "excluded" in entry:
            entry["excluded"] = entry.get("excluded", 0) + tally.get("excluded", 0)
    return {"_id": aggregate_id(period, department, shard), "period": period, "department": department,
            "shard": shard, "scopes": sorted(scopes.values(), key=lambda e: e["scope"])}


def aggregate_id(period, department, shard):
    return f"{period}|{department}#{shard}"


def demand_ids(batch):
    return list({m["data"]["demand_id"] for m in batch if m["type"] == messages.DEMAND_UPDATED})


def keep_newest_demand(demands, stored_versions, data):
    """Event-carried state: of all the states of a demand seen, the highest version wins, whatever the order."""
    newest = max(stored_versions.get(data["demand_id"], 0), demands.get(data["demand_id"], {}).get("version", 0))
    if data["version"] > newest:
        demands[data["demand_id"]] = data


EXCLUSION_TYPES = (messages.RATING_EXCLUDED, messages.RATING_RESTORED)
RATINGS_TYPES = (messages.RESPONSE_SUBMITTED, messages.VISIT_RECORDED)


def exclusion_sources(batch):
    """The answers and visits a batch rates or excludes: whose stored exclusion states the plan needs."""
    return list({m["data"]["source_id"] for m in batch if m["type"] in EXCLUSION_TYPES + RATINGS_TYPES})


def keep_newest_exclusion(exclusions, stored, data):
    """Event-carried state: an exclusion's highest version wins (2, restored, is final), whatever the order."""
    newest = max((stored.get(data["exclusion_id"]) or {}).get("version", 0),
                 exclusions.get(data["exclusion_id"], {}).get("version", 0))
    if data["version"] > newest:
        exclusions[data["exclusion_id"]] = data


def exclusion_doc(data):
    """Scoring's own copy of an exclusion's state (collection `exclusions`)."""
    return {"_id": data["exclusion_id"], "version": data["version"], "active": data["active"],
            "source_id": data["source_id"], "period": data["period"], "departments": data["departments"],
            "indices": sorted(r["index"] for r in data["ratings"])}


def coverage(states):
    """{source id: indices of its ratings that active exclusions leave out} of exclusion documents."""
    covered = {}
    for doc in states:
        if doc["active"]:
            covered.setdefault(doc["source_id"], set()).update(doc["indices"])
    return covered


def plan_batch(batch, already_processed, demand_versions=None, exclusion_states=None):
    """The writes for the messages of `batch` not yet processed (redeliveries change nothing).

    `demand_versions`: the stored version of each demand the batch mentions; `exclusion_states`: {id: stored
    exclusion document} of every exclusion of the answers and visits it mentions. Exclusions are taken
    first, so a rating arriving with or after its exclusion (outbox order is not guaranteed) is born excluded.
    """
    writes, seen = BatchWrites(), set(already_processed)
    stored_exclusions = exclusion_states or {}
    fresh = [m for m in dict((m["id"], m) for m in batch).values() if m["id"] not in seen]
    for message in fresh:
        if message["type"] in EXCLUSION_TYPES:
            keep_newest_exclusion(writes.exclusions, stored_exclusions, message["data"])
    covered = coverage({**stored_exclusions, **{k: exclusion_doc(d) for k, d in writes.exclusions.items()}}.values())
    for message in batch:
        if message["id"] in seen:
            continue
        seen.add(message["id"])
        writes.processed.append({"_id": message["id"], "type": message["type"], "occurred_at": message["occurred_at"]})
        data = message["data"]
        if message["type"] in RATINGS_TYPES:
            writes.periods.update(periods_of(data["period"]))
            for rating in rating_docs(message, covered.get(data["source_id"], frozenset())):
                writes.ratings.append(rating)
                add_to_voice(writes, rating)
            writes.indicators.update({f'{r["department"]}|{r["indicator"]}': r["indicator_name"]
                                      for r in data["ratings"] if r.get("indicator_name")})
            if data.get("choices"):
                writes.choices.append(chosen_doc(message))
            if data.get("nps") is not None:
                writes.nps.append({"_id": data["source_id"], "period": data["period"],
                                   "enterprise": data["enterprise"]["code"], "score": data["nps"],
                                   "occurred_at": message["occurred_at"]})
        elif message["type"] == messages.DEPARTMENT_CHANGED:
            writes.departments[data["code"]] = data["name"]
        elif message["type"] == messages.DEMAND_UPDATED:
            keep_newest_demand(writes.demands, demand_versions or {}, data)
        elif message["type"] == messages.PERIOD_RELEASED:
            writes.releases.append(data)
        elif message["type"] in EXCLUSION_TYPES:
            writes.periods.update(periods_of(data["period"]))
        # demand.overdue is a push for people (departments, leaders); the figures derive overdue from
        # the deadline, so the worker only records the message as processed.
    return writes


# --- option counts of single- and multi-choice questions (希望改进的方面: 速度 41% …) ---------------------------
def chosen_doc(message):
    """Scoring's copy of what one answer chose (collection `choices`), from which the counts are rebuilt."""
    data = message["data"]
    return {"_id": data["source_id"], "period": data["period"], "survey": data.get("survey_id") or "",
            "survey_title": data.get("survey_title"), "choices": data["choices"], "occurred_at": message["occurred_at"]}


def choice_counts_id(period, survey, question, shard):
    return f"{period}|{survey}|{question}#{shard}"


def choice_tallies(answers):
    """{(period, survey, question): {question as asked, "answered": n, "counts": {option: n}}} of answers
    (`chosen_doc`s): how many answered each question and chose each option. Quarters only: a year's
    counts are its quarters' (each survey belongs to one quarter)."""
    tallies = {}
    for answer in answers:
        for choice in answer["choices"]:
            key = (answer["period"], answer["survey"], choice["question"])
            tally = tallies.setdefault(key, {"answered": 0, "counts": {}, "survey_title": answer.get("survey_title")})
            tally.update({k: choice[k] for k in ("number", "text", "type", "options")})
            tally["answered"] += 1
            for option in dict.fromkeys(choice["chosen"]):
                tally["counts"][option] = tally["counts"].get(option, 0) + 1
    return tallies


def updated_choice_counts(doc, key, shard, tally):
    """This worker's shard of one question's option counts with a batch's tally added. Counts are a list of
    {option, count}: an option's text may hold "." or "$", which a field name may not."""
    period, survey, question = key
    counts = {c["option"]: c["count"] for c in (doc or {}).get("counts", [])}
    for option, k in tally["counts"].items():
        counts[option] = counts.get(option, 0) + k
    return {"_id": choice_counts_id(period, survey, question, shard), "period": period, "survey": survey,
            "question": question, "shard": shard,
            **{k: tally.get(k) for k in ("survey_title", "number", "text", "type", "options")},
            "answered": (doc or {}).get("answered", 0) + tally["answered"],
            "counts": [{"option": o, "count": k} for o, k in counts.items()]}


def nps_category(score):
    return "promoters" if score >= 9 else "detractors" if score <= 6 else "passives"


def to_ms(moment):
    """BSON keeps milliseconds: compare moments as the database will give them back."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def nps_id(period, enterprise):
    return f"{period}|{enterprise}"


def nps_changes(answers, stored):
    """One voice per enterprise in NPS too: its latest answer in the period (quarter and year). Returns the
    new NPS voices and, per period, the change of promoter, passive and detractor counts."""
    new, deltas = {}, {}
    for answer in answers:
        for period in periods_of(answer["period"]):
            vid = nps_id(period, answer["enterprise"])
            current = new.get(vid) or stored.get(vid)
            moment = (to_ms(answer["occurred_at"]), answer["_id"])
            if current and (to_ms(current["occurred_at"]), current["answer"]) >= moment:
                continue
            delta = deltas.setdefault(period, {"promoters": 0, "passives": 0, "detractors": 0})
            if current:
                delta[nps_category(current["score"])] -= 1
            delta[nps_category(answer["score"])] += 1
            new[vid] = {"_id": vid, "period": period, "enterprise": answer["enterprise"], "score": answer["score"],
                        "occurred_at": to_ms(answer["occurred_at"]), "answer": answer["_id"]}
    return list(new.values()), deltas


def updated_nps_aggregate(doc, period, shard, delta):
    counts = {k: (doc or {}).get(k, 0) + delta[k] for k in ("promoters", "passives", "detractors")}
    return {"_id": f"{period}#{shard}", "period": period, "shard": shard, **counts}


# --- exclusions of stored ratings ------------------------------------------------------------------------
def flips(stored_ratings, covered):
    """The stored ratings whose excluded mark differs from what the active exclusions say, with the new mark."""
    out = []
    for rating in stored_ratings:
        now = int(rating["_id"].rsplit(":", 1)[1]) in covered.get(rating["source_id"], ())
        if bool(rating.get("excluded")) != now:
            out.append({**rating, "excluded": now})
    return out


def flip_tallies(writes, flipped):
    """Move each flipped rating between the level and channel tallies and the count of excluded ones."""
    for rating in flipped:
        sign = -1 if rating["excluded"] else 1
        for period in periods_of(rating["period"]):
            tally = tally_of(writes, period, rating["department"])
            lv = str(rating["level"])
            tally["levels"][lv] = tally["levels"].get(lv, 0) + sign
            tally["channels"][rating["channel"]] = tally["channels"].get(rating["channel"], 0) + sign
            tally["excluded"] -= sign


def voices_of(ratings):
    """The voice ids (quarter and year) a rating changes."""
    return {voice_id(p, r["department"], r["enterprise"]) for r in ratings for p in periods_of(r["period"])}


def rebuilt_voices(voice_ratings, stored):
    """Voices recomputed from their raw ratings (the excluded left out), as after a rescore.

    `voice_ratings`: {voice id: every rating of that voice (stored and new, marks as they are to be)};
    `stored`: {voice id: stored voice}. Returns (voices to write, voice ids to delete, deltas per
    (period, department)), where the deltas replace each enterprise's old scores by its new ones.
    """
    new_voices, deleted, deltas = [], [], {}
    for vid, ratings in voice_ratings.items():
        period, department, enterprise = vid.split("|", 2)
        scratch = BatchWrites()
        for rating in ratings:
            add_to_voice(scratch, rating, (period,))
        added = scratch.voices.get(vid)
        new = merged_voice(None, added) if added else None
        old = stored.get(vid)
        if new:
            new_voices.append(new)
        elif old:
            deleted.append(vid)
        replace_voice(deltas.setdefault((period, department), {}), voice_scopes(old["parts"]) if old else {},
                      voice_scopes(new["parts"]) if new else {})
    return new_voices, deleted, deltas


def excluded_changes(writes, states, of_ids, of_voice, changed=None):
    """What exclusion states change in stored ratings: (the ratings whose mark flips, with their new mark;
    {voice id: all its ratings as they are to be} for every voice to rebuild from raw ratings; the sources
    none of whose named ratings are stored or in this batch, whose exclusions wait for them: `pending`).

    `states`: the stored exclusion documents of the batch's sources; `changed`: the exclusion documents whose
    ratings may flip (by default the batch's new states); `of_ids(rating ids)` and `of_voice(quarter,
    department, enterprise)`: stored ratings by id (a rating's id is "<message id>:<index>", and the message
    id of an answer or a visit is its id), and those of one enterprise's voice in a quarter. The flipped
    ratings move between the level tallies and the excluded count here. A voice they belong to is recomputed
    from its raw ratings (sums of floats cannot be taken back exactly) together with any rating of it this
    batch adds, so it leaves the incremental path.
    """
    changed = changed if changed is not None else [exclusion_doc(d) for d in writes.exclusions.values()]
    if not changed:
        return [], {}, set()
    covered = coverage({**states, **{k: exclusion_doc(d) for k, d in writes.exclusions.items()}}.values())
    ids = sorted({f"{d['source_id']}:{i}" for d in changed for i in d["indices"]})
    stored = list(of_ids(ids))
    unseen = {d["source_id"] for d in changed} - {r["source_id"] for r in stored} - \
        {r["source_id"] for r in writes.ratings}
    flipped = flips(stored, covered)
    flip_tallies(writes, flipped)
    marks = {r["_id"]: r for r in flipped}
    voice_ratings, quarters = {}, {}
    for vid in sorted(voices_of(flipped)):
        period, department, enterprise = vid.split("|", 2)
        ratings = []
        for quarter in quarters_of(period):
            key = (quarter, department, enterprise)
            if key not in quarters:
                quarters[key] = [marks.get(r["_id"], r) for r in of_voice(*key)] + [
                    r for r in writes.ratings if (r["period"], r["department"], r["enterprise"]) == key]
            ratings += quarters[key]
        voice_ratings[vid] = ratings
    return flipped, voice_ratings, unseen


def merge_deltas(*many):
    """{(period, department): {scope: [n, Σq, Σq²]}} summed."""
    out = {}
    for deltas in many:
        for key, scopes in deltas.items():
            into = out.setdefault(key, {})
            for scope, d in scopes.items():
                into[scope] = [a + b for a, b in zip(into.get(scope, [0, 0, 0]), d)]
    return out
