"""What a batch of validated events writes: pure functions from messages to documents (no I/O)."""
import math
from dataclasses import dataclass, field

from shared import messages
from shared.domain import SEGMENT_ATTRIBUTES, year_of
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

    def __bool__(self):
        return bool(self.processed)


def rating_docs(message):
    data = message["data"]
    enterprise = data["enterprise"]
    segment = {k: enterprise[k] for k in SEGMENT_ATTRIBUTES}
    for i, r in enumerate(data["ratings"]):
        yield {"_id": f"{message['id']}:{i}", "message_id": message["id"], "source_id": data["source_id"],
               "channel": data["channel"], "period": data["period"], "enterprise": enterprise["code"],
               "segment": segment, "department": r["department"], "indicator": r["indicator"],
               "question": r.get("question"), "weight": r["weight"], "level": r["level"], "points": r["points"],
               "occurred_at": message["occurred_at"]}


def periods_of(period):
    """A rating counts in its quarter and in its year (DESIGN §9: a year is a period too)."""
    return (period, year_of(period))


def voice_id(period, department, enterprise):
    return f"{period}|{department}|{enterprise}"


def add_to_voice(writes, rating, periods=None):
    """Add a rating to its enterprise's voices (quarter and year) and to the level and channel tallies."""
    for period in periods or periods_of(rating["period"]):
        vid = voice_id(period, rating["department"], rating["enterprise"])
        voice = writes.voices.setdefault(vid, {"period": period, "department": rating["department"],
                                               "enterprise": rating["enterprise"], "parts": {}})
        part = {"indicator": rating["indicator"], "segment": rating["segment"], "swp": [], "sw": [], "levels": {}}
        part = voice["parts"].setdefault(part_key(part), part)
        part["swp"].append(rating["weight"] * rating["points"])
        part["sw"].append(rating["weight"])
        lv = str(rating["level"])
        part["levels"][lv] = part["levels"].get(lv, 0) + 1
        tally = writes.tallies.setdefault((period, rating["department"]), {"levels": {}, "channels": {}})
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


def plan_batch(batch, already_processed, demand_versions=None):
    """The writes for the messages of `batch` not yet processed (redeliveries change nothing).

    `demand_versions`: the stored version of each demand the batch mentions.
    """
    writes, seen = BatchWrites(), set(already_processed)
    for message in batch:
        if message["id"] in seen:
            continue
        seen.add(message["id"])
        writes.processed.append({"_id": message["id"], "type": message["type"], "occurred_at": message["occurred_at"]})
        data = message["data"]
        if message["type"] in (messages.RESPONSE_SUBMITTED, messages.VISIT_RECORDED):
            writes.periods.update(periods_of(data["period"]))
            for rating in rating_docs(message):
                writes.ratings.append(rating)
                add_to_voice(writes, rating)
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
        # demand.overdue is a push for people (departments, leaders); the figures derive overdue from
        # the deadline, so the worker only records the message as processed.
    return writes


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
