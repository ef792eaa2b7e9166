"""What a batch of validated events writes: pure functions from messages to documents (no I/O)."""
from collections import defaultdict
from dataclasses import dataclass, field

from shared import messages
from shared.domain import SEGMENT_ATTRIBUTES
from shared.scoring import cell_key


@dataclass
class BatchWrites:
    processed: list = field(default_factory=list)
    ratings: list = field(default_factory=list)
    cells: dict = field(default_factory=dict)  # cell shard id → {"inc": {...}, "set": {...}}
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


def add_to_cell(cells, rating, shard):
    """Add a rating to this worker's shard of its cell: competing workers never write one document."""
    key = cell_key(rating["period"], rating["department"], rating["indicator"], rating["enterprise"])
    cell = cells.setdefault(f"{key}#{shard}", {"inc": defaultdict(float), "set": {
        "key": key, "shard": shard, "period": rating["period"], "department": rating["department"], "indicator": rating["indicator"],
        "enterprise": rating["enterprise"], "segment": rating["segment"]}})
    cell["inc"]["swp"] += rating["weight"] * rating["points"]
    cell["inc"]["sw"] += rating["weight"]
    cell["inc"][f"levels.{rating['level']}"] += 1
    cell["inc"][f"channels.{rating['channel']}"] += 1


def demand_ids(batch):
    return list({m["data"]["demand_id"] for m in batch if m["type"] == messages.DEMAND_UPDATED})


def keep_newest_demand(demands, stored_versions, data):
    """Event-carried state: of all the states of a demand seen, the highest version wins, whatever the order."""
    newest = max(stored_versions.get(data["demand_id"], 0), demands.get(data["demand_id"], {}).get("version", 0))
    if data["version"] > newest:
        demands[data["demand_id"]] = data


def plan_batch(batch, already_processed, shard="0", demand_versions=None):
    """The writes for the messages of `batch` not yet processed (redeliveries change nothing).

    `shard` names the worker whose counters the cells' increments go to (DESIGN §2);
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
            writes.periods.add(data["period"])
            for rating in rating_docs(message):
                writes.ratings.append(rating)
                add_to_cell(writes.cells, rating, shard)
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
