"""The scoring worker's database `manyi_scores` (also read by the gateway)."""
import uuid

from pymongo import ASCENDING, DESCENDING, IndexModel, InsertOne, ReplaceOne, UpdateOne

from services.scoring.planning import demand_ids, plan_batch
from shared import disclosure, mongo
from shared.domain import utcnow

RESCORE_SHARD = "rescore"


class ScoresStore:
    def __init__(self, config):
        self.client = mongo.client(config.mongo_url)
        self.db = self.client[config.scores_db]
        self.shard = config.worker_id           # this worker's counter shards in `cells`
        self.min_n = config.min_n               # a release holds back what fewer enterprises changed
        self.ratings = self.db.ratings          # every rating, as received: the ground truth
        self.cells = self.db.cells              # Σw·p, Σw, level and channel counts per enterprise cell and shard
        self.processed = self.db.processed      # message ids already applied (idempotency)
        self.nps = self.db.nps
        self.departments = self.db.departments
        self.batches = self.db.batches          # one per committed batch: what changed when (cache keys)
        self.demands = self.db.demands          # newest state of each demand (by version), for demand figures
        self.releases = self.db.releases        # one per release (通报) of a period: what portals read
        self.released = self.db.released        # the aggregate documents of each release, frozen (snapshot)

    def ensure_indexes(self):
        self.cells.create_indexes([IndexModel([("period", ASCENDING), ("department", ASCENDING)]),
                                   IndexModel("key")])
        self.ratings.create_indexes([IndexModel([("period", ASCENDING)])])
        self.nps.create_indexes([IndexModel([("period", ASCENDING)])])
        self.batches.create_indexes([IndexModel([("periods", ASCENDING), ("at", DESCENDING)])])
        self.demands.create_indexes([IndexModel([("period", ASCENDING), ("department", ASCENDING)])])
        self.released.create_indexes([IndexModel([("release", ASCENDING), ("kind", ASCENDING)])])

    def ping(self):
        mongo.ping(self.client)

    def apply_batch(self, batch):
        """Apply validated messages in one journaled transaction; returns the writes made."""
        def work(session):
            ids = list({m["id"] for m in batch})
            done = {d["_id"] for d in mongo.find_in(self.processed, "_id", ids, {"_id": 1}, session=session)}
            versions = {d["_id"]: d["version"] for d in mongo.find_in(
                self.demands, "_id", demand_ids(batch), {"version": 1}, session=session)}
            writes = plan_batch(batch, done, self.shard, versions)
            if not writes:
                return writes
            self.processed.insert_many(writes.processed, ordered=False, session=session)
            if writes.ratings:
                self.ratings.insert_many(writes.ratings, ordered=False, session=session)
            if writes.cells:
                self.cells.bulk_write([UpdateOne({"_id": key}, {"$inc": dict(c["inc"]), "$set": c["set"]}, upsert=True)
                                       for key, c in writes.cells.items()], ordered=False, session=session)
            if writes.nps:
                self.nps.insert_many(writes.nps, ordered=False, session=session)
            if writes.departments:
                self.departments.bulk_write([UpdateOne({"_id": code}, {"$set": {"name": name}}, upsert=True)
                                             for code, name in writes.departments.items()], session=session)
            if writes.demands:
                # Read in this transaction's snapshot: a concurrent worker's write to the same demand is a
                # write conflict, and the transaction is retried with the newer stored version.
                self.demands.bulk_write([ReplaceOne({"_id": key}, {k: v for k, v in d.items() if k != "demand_id"},
                                                    upsert=True) for key, d in writes.demands.items()],
                                        ordered=False, session=session)
            for release in writes.releases:  # after the batch's own writes: the snapshot includes them
                self.snapshot(release, session)
            self.batches.insert_one({"_id": uuid.uuid4().hex, "periods": sorted(writes.periods),
                                     "departments": bool(writes.departments), "at": utcnow()}, session=session)
            return writes
        return mongo.run_transaction(self.client, work)

    def snapshot(self, release, session):
        """Freeze the period's aggregate documents as release N (通报), inside the batch's transaction.

        The snapshot is a copy of exactly the documents the gateway derives live figures from (cells, NPS
        answers, demand states), so the released figures come out of the same pure functions; answers applied
        later change the live documents, never the copy. A department that fewer than MANYI_MIN_N enterprises
        changed since the previous release keeps that release's documents (shared/disclosure.py): two releases
        side by side must not give a late answer away.
        """
        period, release_id = release["period"], f"{release['period']}:{release['release']}"
        live = {kind: list(collection.find({"period": period}, session=session))
                for kind, collection in (("cells", self.cells), ("nps", self.nps), ("demands", self.demands))}
        previous = self.releases.find_one({"period": period}, sort=[("release", -1)], session=session)
        held = {"cells": [], "nps": False, "demands": []}
        if previous is not None:
            before = {kind: [] for kind in live}
            for d in self.released.find({"release": previous["_id"]}, session=session):
                before[d["kind"]].append(d["doc"])
            held = {"cells": disclosure.held_back_departments(before["cells"], live["cells"], self.min_n),
                    "nps": disclosure.nps_held_back(before["nps"], live["nps"], self.min_n),
                    "demands": disclosure.demand_departments_held_back(before["demands"], live["demands"], self.min_n)}
            for kind in ("cells", "demands"):
                keep = set(held[kind])
                live[kind] = [d for d in live[kind] if d["department"] not in keep] + \
                    [d for d in before[kind] if d["department"] in keep]
            if held["nps"]:
                live["nps"] = before["nps"]
        frozen = [{"_id": f"{release_id}|{kind}|{doc['_id']}", "release": release_id, "kind": kind, "doc": doc}
                  for kind, docs in live.items() for doc in docs]
        if frozen:
            self.released.insert_many(frozen, ordered=False, session=session)
        names = [{"code": d["_id"], "name": d["name"]} for d in self.departments.find({}, session=session)]
        self.releases.insert_one({"_id": release_id, "period": period, "release": release["release"],
                                  "released_at": release["released_at"], "applied_at": utcnow(),
                                  "departments": names, "documents": len(frozen), "held_back": held}, session=session)

    def replace_cells(self, cells, period=None):
        """Swap the stored cells (every shard, of one period or all) for recomputed ones, in one transaction."""
        def work(session):
            self.cells.delete_many({"period": period} if period else {}, session=session)
            if cells:
                self.cells.bulk_write([InsertOne({**c, "_id": f"{key}#{RESCORE_SHARD}", "key": key,
                                                  "shard": RESCORE_SHARD}) for key, c in cells.items()],
                                      session=session)
            self.batches.insert_one({"_id": uuid.uuid4().hex, "periods": sorted({c["period"] for c in cells.values()}),
                                     "departments": False, "at": utcnow()}, session=session)
        mongo.run_transaction(self.client, work)
