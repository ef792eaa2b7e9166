"""The scoring worker's database `manyi_scores` (also read by the gateway)."""
from pymongo import ASCENDING, DeleteOne, IndexModel, InsertOne, ReplaceOne, UpdateOne

from services.scoring.planning import (
    BatchWrites,
    aggregate_id,
    choice_counts_id,
    choice_tallies,
    demand_ids,
    excluded_changes,
    exclusion_doc,
    exclusion_sources,
    merge_deltas,
    nps_changes,
    nps_id,
    periods_of,
    plan_batch,
    rebuilt_voices,
    updated_aggregate,
    updated_choice_counts,
    updated_nps_aggregate,
    voice_changes,
)
from shared import disclosure, mongo
from shared.domain import quarters_of, utcnow

RESCORE_SHARD = "rescore"
DEPARTMENTS_VERSION = "*"  # the version key of the department list, which every period's figures show
# A transaction's writes are bounded (not only its messages): ratings + voices per sub-batch. Larger
# transactions were no faster and once never committed on the embedded server.
MAX_RATINGS_PER_TRANSACTION = 2000
# A rescore switches one (period, department) over per transaction: at a million ratings in a quarter, one
# department's quarter or year is 10,000 ratings and as many voices, which the 8 s bound of the hot paths cut
# short (the rescore failed). Below the server's 60 s transaction lifetime.
RESCORE_TRANSACTION_SECONDS = 50


def write_differences(collection, where, fresh, session):
    """Make the documents of `collection` matching `where` exactly `fresh`, writing only those that differ: the
    stored ones are read in the transaction's snapshot, so a concurrent writer of one written here meets a write
    conflict (a rescore's switch-over, `replace_department` and `replace_nps`)."""
    stored = {d["_id"]: d for d in collection.find(where, session=session)}
    wanted = {d["_id"]: d for d in fresh}
    changes = [DeleteOne({"_id": key}) for key in stored if key not in wanted] + \
        [ReplaceOne({"_id": key}, d) if key in stored else InsertOne(d)
         for key, d in wanted.items() if stored.get(key) != d]
    if changes:
        collection.bulk_write(changes, ordered=False, session=session)


class ScoresStore:
    def __init__(self, config):
        self.client = mongo.client(config.mongo_url)
        self.db = self.client[config.scores_db]
        self.shard = config.worker_id           # this worker's shard of each aggregate
        self.named_indicators = {}              # indicator names this process has written (so a batch rarely writes one)
        self.min_n = config.min_n               # a release holds back what fewer enterprises changed
        self.ratings = self.db.ratings          # every rating, as received: the ground truth
        self.voices = self.db.voices            # per period, department, enterprise: its ratings as Σw·p, Σw parts
        self.aggregates = self.db.aggregates    # per period, department and worker shard: n, Σq, Σq² per scope
        self.versions = self.db.versions        # per period and shard: a counter bumped by every commit
        self.processed = self.db.processed      # message ids already applied (idempotency)
        self.nps = self.db.nps                  # every NPS answer (ground truth)
        self.nps_voices = self.db.nps_voices    # per period and enterprise: its latest NPS answer
        self.nps_aggregates = self.db.nps_aggregates  # per period and shard: promoters, passives, detractors
        self.departments = self.db.departments
        self.indicators = self.db.indicators    # what each indicator is called (from the survey definitions)
        self.demands = self.db.demands          # newest state of each demand (by version), for demand figures
        self.releases = self.db.releases        # one per release (通报) of a period: what portals read
        self.released = self.db.released        # the documents of each release, frozen (snapshot)
        self.exclusions = self.db.exclusions    # newest state of each exclusion (by version): ratings left out
        self.choices = self.db.choices          # what each survey answer chose on its choice questions (ground truth)
        self.choice_counts = self.db.choice_counts  # per quarter, survey question and shard: answered, option counts

    def ensure_indexes(self):
        self.ratings.create_indexes([IndexModel([("period", ASCENDING), ("department", ASCENDING)])])
        self.voices.create_indexes([IndexModel([("period", ASCENDING), ("department", ASCENDING)])])
        self.aggregates.create_indexes([IndexModel([("period", ASCENDING), ("department", ASCENDING)]),
                                        IndexModel([("department", ASCENDING)])])  # has it ever been rated?
        self.versions.create_indexes([IndexModel([("period", ASCENDING)])])
        self.nps.create_indexes([IndexModel([("period", ASCENDING)])])
        self.nps_aggregates.create_indexes([IndexModel([("period", ASCENDING)])])
        self.demands.create_indexes([IndexModel([("period", ASCENDING), ("department", ASCENDING)])])
        self.released.create_indexes([IndexModel([("release", ASCENDING), ("kind", ASCENDING)])])
        self.exclusions.create_indexes([IndexModel([("source_id", ASCENDING)])])
        self.choices.create_indexes([IndexModel([("period", ASCENDING)])])
        self.choice_counts.create_indexes([IndexModel([("period", ASCENDING)])])

    def ping(self):
        mongo.ping(self.client)

    def apply_batch(self, batch):
        """Apply validated messages in journaled transactions of bounded size; returns the writes made."""
        total, part, ratings = BatchWrites(), [], 0
        for message in batch:
            part.append(message)
            ratings += len(message.get("data", {}).get("ratings") or ())
            if ratings >= MAX_RATINGS_PER_TRANSACTION:
                self._add(total, self.apply_transaction(part))
                part, ratings = [], 0
        if part:
            self._add(total, self.apply_transaction(part))
        self.settle_pending()
        return total

    @staticmethod
    def _add(total, writes):
        total.processed += writes.processed
        total.ratings += writes.ratings
        total.periods |= writes.periods

    def apply_transaction(self, batch):
        """One transaction: new ratings, the voices they change, and this worker's aggregate shards.

        Competing workers: a voice is one document per (period, department, enterprise), not sharded, and
        each transaction reads it in its snapshot and replaces it. Two workers changing one enterprise's
        voice therefore write the same document: the second to commit gets a write conflict, and the
        transaction is retried from a fresh snapshot (with_transaction), so it replaces the score the
        first one wrote: never a lost update. Aggregates are sharded per worker and only ever written by
        their own worker, so workers never conflict on them (the reader sums the shards).
        """
        def work(session):
            ids = list({m["id"] for m in batch})
            done = {d["_id"] for d in mongo.find_in(self.processed, "_id", ids, {"_id": 1}, session=session)}
            versions = {d["_id"]: d["version"] for d in mongo.find_in(
                self.demands, "_id", demand_ids(batch), {"version": 1}, session=session)}
            states = {d["_id"]: d for d in mongo.find_in(self.exclusions, "source_id", exclusion_sources(batch),
                                                         session=session)}
            writes = plan_batch(batch, done, versions, states)
            if not writes:
                return writes
            flipped, voice_ratings, unseen = self.excluded_changes(writes, states, session)
            self.processed.insert_many(writes.processed, ordered=False, session=session)
            if writes.ratings:
                self.ratings.insert_many(writes.ratings, ordered=False, session=session)
            if writes.exclusions:
                # An exclusion none of whose ratings is stored yet waits for them (`pending`, settle_pending).
                self.exclusions.bulk_write([ReplaceOne({"_id": key}, exclusion_doc(d) | (
                    {"pending": True} if d["source_id"] in unseen else {}), upsert=True)
                    for key, d in writes.exclusions.items()], ordered=False, session=session)
            self.write_voices(writes, voice_ratings, flipped, session)
            if writes.nps:
                self.nps.insert_many(writes.nps, ordered=False, session=session)
                self.apply_nps(writes.nps, session)
            if writes.choices:
                self.choices.insert_many(writes.choices, ordered=False, session=session)
                self.apply_choices(writes.choices, session)
            if writes.departments:
                self.departments.bulk_write([UpdateOne({"_id": code}, {"$set": {"name": name}}, upsert=True)
                                             for code, name in writes.departments.items()], session=session)
            renamed = {code: name for code, name in writes.indicators.items() if self.named_indicators.get(code) != name}
            if renamed:  # an upsert is slow on the embedded server: only names this process has not written yet
                self.indicators.bulk_write([UpdateOne({"_id": key}, {"$set": dict(zip(
                    ("department", "indicator"), key.split("|", 1), strict=True), name=name)}, upsert=True)
                    for key, name in renamed.items()], ordered=False, session=session)
            if writes.demands:
                # Read in this transaction's snapshot: a concurrent worker's write to the same demand is a
                # write conflict, and the transaction is retried with the newer stored version.
                self.demands.bulk_write([ReplaceOne({"_id": key}, {k: v for k, v in d.items() if k != "demand_id"},
                                                    upsert=True) for key, d in writes.demands.items()],
                                        ordered=False, session=session)
            # A department's or an indicator's name shows in every period: the shared counter moves them all.
            self.bump_versions(writes.periods | ({DEPARTMENTS_VERSION} if writes.departments or renamed else set()),
                               self.shard, session)
            for release in writes.releases:  # after the batch's own writes: the snapshot includes them
                self.snapshot(release, session)
            return writes
        writes = mongo.run_transaction(self.client, work)
        self.named_indicators.update(writes.indicators)
        return writes

    def write_voices(self, writes, voice_ratings, flipped, session):
        """The voices, ratings' marks and this worker's aggregate shards a transaction changes: voices of new
        ratings incrementally, voices of flipped ratings rebuilt from their raw ratings (`voice_ratings`)."""
        stored = {v["_id"]: v for v in mongo.find_in(self.voices, "_id", list(writes.voices) + list(voice_ratings),
                                                     session=session)}
        new_voices, deltas = voice_changes({k: v for k, v in writes.voices.items() if k not in voice_ratings}, stored)
        rebuilt, emptied, rebuilt_deltas = rebuilt_voices(voice_ratings, stored)
        deltas = merge_deltas(deltas, rebuilt_deltas)
        keys = sorted(set(deltas) | set(writes.tallies))
        shards = {d["_id"]: d for d in mongo.find_in(
            self.aggregates, "_id", [aggregate_id(p, d, self.shard) for p, d in keys], session=session)}
        if new_voices:  # a new voice is inserted (twice as fast as an upsert); a concurrent insert of the
            # same one is a write conflict or a duplicate key, and either way the batch is retried
            self.voices.bulk_write([ReplaceOne({"_id": v["_id"]}, v) if v["_id"] in stored else InsertOne(v)
                                    for v in new_voices], ordered=False, session=session)
        if rebuilt or emptied:
            self.voices.bulk_write([ReplaceOne({"_id": v["_id"]}, v, upsert=True) for v in rebuilt] +
                                   [DeleteOne({"_id": vid}) for vid in emptied], ordered=False, session=session)
        for mark in (True, False):
            mongo.update_in(self.ratings, [r["_id"] for r in flipped if r["excluded"] is mark],
                            {"$set": {"excluded": mark}}, session=session)
        if keys:
            aggregates = [updated_aggregate(shards.get(aggregate_id(p, d, self.shard)), p, d, self.shard,
                                            deltas.get((p, d), {}), writes.tallies.get((p, d))) for p, d in keys]
            self.aggregates.bulk_write([ReplaceOne({"_id": a["_id"]}, a, upsert=True) if a["_id"] in shards
                                        else InsertOne(a) for a in aggregates], ordered=False, session=session)

    def settle_pending(self):
        """Apply again the exclusions that were waiting for their ratings, once those are stored; returns how
        many answers or visits were settled.

        A rating arriving after its exclusion is born excluded, but only if the exclusion was committed in the
        snapshot its transaction read: two workers applying an exclusion and its ratings at the same instant
        would each miss the other. The exclusion stays `pending` until a later transaction, which sees both,
        flips whatever is left unmarked (nothing, in the usual case) and clears it.
        """
        pending = {d["source_id"] for d in self.exclusions.find({"pending": True}, {"source_id": 1})}
        if not pending:
            return 0
        stored = sorted(d["_id"] for d in mongo.find_in(self.processed, "_id", sorted(pending), {"_id": 1}))
        for source_id in stored:  # an answer's or a visit's message id is its id
            mongo.run_transaction(self.client, lambda session, s=source_id: self.settle(s, session))
        return len(stored)

    def settle(self, source_id, session):
        states = {d["_id"]: d for d in self.exclusions.find({"source_id": source_id}, session=session)}
        if not any(d.get("pending") for d in states.values()):
            return
        writes = BatchWrites()
        flipped, voice_ratings, _ = self.excluded_changes(writes, states, session,
                                                          [d for d in states.values() if d.get("pending")])
        self.write_voices(writes, voice_ratings, flipped, session)
        self.exclusions.update_many({"source_id": source_id, "pending": True}, {"$unset": {"pending": ""}},
                                    session=session)
        self.bump_versions({p for r in flipped for p in periods_of(r["period"])}, self.shard, session)

    def excluded_changes(self, writes, states, session, changed=None):
        """planning.excluded_changes over the stored ratings, read in this transaction's snapshot."""
        def of_voice(quarter, department, enterprise):
            return self.ratings.find({"period": quarter, "department": department, "enterprise": enterprise},
                                     session=session)
        return excluded_changes(writes, states, lambda ids: mongo.find_in(self.ratings, "_id", ids, session=session),
                                of_voice, changed)

    SNAPSHOT = ("aggregates", "nps_aggregates", "demands", "voices", "nps_voices", "choice_counts")
    BY_QUARTER = ("demands", "choice_counts")  # documents of a quarter only: a year's are its quarters'

    def snapshot(self, release, session):
        """Freeze the period's aggregate documents as release N (通报), inside the batch's transaction.

        The copy is of exactly the documents the gateway derives live figures from (aggregates, NPS
        aggregates, demand states; gateway/figures.py `figures_of`), so released figures come out of the
        same pure function; answers applied later change the live documents, never the copy. The voices
        (one per enterprise and department) are copied to compare releases: a department that fewer than
        MANYI_MIN_N enterprises changed since the previous release keeps that release's documents
        (shared/disclosure.py), since two releases side by side must not give a late answer away.
        """
        period, release_id = release["period"], f"{release['period']}:{release['release']}"
        where = {"$in": quarters_of(period)} if len(period) == 4 else period
        live = {kind: list(self.db[kind].find({"period": where if kind in self.BY_QUARTER else period}, session=session))
                for kind in self.SNAPSHOT}
        previous = self.releases.find_one({"period": period}, sort=[("release", -1)], session=session)
        held = {"departments": [], "nps": False, "demands": [], "choices": False}
        if previous is not None:
            before = {kind: [] for kind in live}
            for d in self.released.find({"release": previous["_id"]}, session=session):
                before[d["kind"]].append(d["doc"])
            held = {"departments": disclosure.held_back_departments(before["voices"], live["voices"], self.min_n),
                    "nps": disclosure.nps_held_back(before["nps_voices"], live["nps_voices"], self.min_n),
                    "demands": disclosure.demand_departments_held_back(before["demands"], live["demands"], self.min_n),
                    "choices": disclosure.choices_held_back(before["choice_counts"], live["choice_counts"], self.min_n)}
            for kinds, keep in ((("aggregates", "voices"), set(held["departments"])), (("demands",), set(held["demands"]))):
                for kind in kinds:
                    live[kind] = [d for d in live[kind] if d["department"] not in keep] + \
                        [d for d in before[kind] if d["department"] in keep]
            if held["nps"]:
                live["nps_aggregates"], live["nps_voices"] = before["nps_aggregates"], before["nps_voices"]
            if held["choices"]:
                live["choice_counts"] = before["choice_counts"]
        frozen = [{"_id": f"{release_id}|{kind}|{doc['_id']}", "release": release_id, "kind": kind, "doc": doc}
                  for kind, docs in live.items() for doc in docs]
        if frozen:
            self.released.insert_many(frozen, ordered=False, session=session)
        names = [{"code": d["_id"], "name": d["name"]} for d in self.departments.find({}, session=session)]
        self.releases.insert_one({"_id": release_id, "period": period, "release": release["release"],
                                  "released_at": release["released_at"], "applied_at": utcnow(),
                                  "departments": names, "documents": len(frozen), "held_back": held}, session=session)

    def apply_nps(self, answers, session):
        ids = {nps_id(p, a["enterprise"]) for a in answers for p in periods_of(a["period"])}
        stored = {v["_id"]: v for v in mongo.find_in(self.nps_voices, "_id", list(ids), session=session)}
        voices, deltas = nps_changes(answers, stored)
        shards = {d["_id"]: d for d in mongo.find_in(
            self.nps_aggregates, "_id", [f"{p}#{self.shard}" for p in deltas], session=session)}
        if voices:
            self.nps_voices.bulk_write([ReplaceOne({"_id": v["_id"]}, v, upsert=True) for v in voices],
                                       ordered=False, session=session)
        if deltas:
            self.nps_aggregates.bulk_write([ReplaceOne({"_id": f"{p}#{self.shard}"}, updated_nps_aggregate(
                shards.get(f"{p}#{self.shard}"), p, self.shard, d), upsert=True) for p, d in deltas.items()],
                ordered=False, session=session)

    def apply_choices(self, answers, session):
        """Add answers' choices to this worker's shard of each question's option counts (a concurrent worker
        writes its own shard: no conflict; the gateway sums the shards)."""
        tallies = choice_tallies(answers)
        ids = {key: choice_counts_id(*key, self.shard) for key in tallies}
        shards = {d["_id"]: d for d in mongo.find_in(self.choice_counts, "_id", list(ids.values()), session=session)}
        self.choice_counts.bulk_write([ReplaceOne({"_id": ids[key]}, updated_choice_counts(
            shards.get(ids[key]), key, self.shard, tally), upsert=True) for key, tally in tallies.items()],
            ordered=False, session=session)

    def replace_choices(self, period, recompute):
        """Switch a quarter's option counts over to a recomputation from the stored choices, in one transaction."""
        def work(session):
            tallies = recompute(session)
            self.choice_counts.delete_many({"period": period}, session=session)
            if tallies:
                self.choice_counts.insert_many([updated_choice_counts(None, key, RESCORE_SHARD, tally)
                                                for key, tally in tallies.items()], session=session)
            self.bump_versions({period}, RESCORE_SHARD, session)
        mongo.run_transaction(self.client, work, seconds=RESCORE_TRANSACTION_SECONDS)

    def bump_versions(self, periods, shard, session):
        """Freshness without clocks: each commit bumps its shard's counter of every period it changed, in
        the same transaction, so a reader sees a new version exactly when it can see the new data."""
        if periods:
            self.versions.bulk_write([UpdateOne({"_id": f"{p}#{shard}"}, {"$inc": {"version": 1},
                                                "$set": {"period": p, "shard": shard}}, upsert=True)
                                      for p in sorted(periods)], ordered=False, session=session)

    def department_ratings(self, period, department, projection=None, session=None):
        """The ratings of one department in a quarter or a year, one equality query per quarter: the
        (period, department) index then serves each (an `$in` on period scanned every rating on the
        embedded server, once per department)."""
        for quarter in quarters_of(period):
            yield from self.ratings.find({"period": quarter, "department": department}, projection, session=session)

    def replace_department(self, period, department, recompute):
        """Switch one (period, department) over to voices and an aggregate recomputed from the ratings
        (`recompute(ratings) → (voices, aggregate)`), read and written in one transaction.

        The ratings and voices are read in the transaction's snapshot. A worker that meanwhile changes a voice
        written here, or an aggregate shard deleted here, meets a write conflict and one of the two is retried.
        Otherwise the worker's voice is one this snapshot holds unchanged (or never saw), and its shard is new:
        its delta (new score − the score this snapshot also holds) adds to the aggregate written here, and
        both stay right."""
        def work(session):
            voices, aggregate = recompute(self.department_ratings(period, department, session=session))
            # Only the voices that differ are written: a rescore usually changes none, and writes were most of
            # its time (at 100,000 ratings, 112 s deleting and inserting every voice).
            write_differences(self.voices, {"period": period, "department": department}, voices, session)
            self.aggregates.delete_many({"period": period, "department": department}, session=session)
            if aggregate:
                self.aggregates.insert_one(aggregate, session=session)
            self.bump_versions({period}, RESCORE_SHARD, session)
        mongo.run_transaction(self.client, work, seconds=RESCORE_TRANSACTION_SECONDS)

    def replace_nps(self, period, recompute):
        """Switch a period's NPS voices and aggregate over to a recomputation, in one transaction; as with the
        departments' voices, only those that differ are written (at a million ratings, replacing a quarter's
        96,000 NPS voices made a commit the server could not finish in time)."""
        def work(session):
            counts, latest = recompute(session)
            write_differences(self.nps_voices, {"period": period}, [
                {"_id": nps_id(period, e), "period": period, "enterprise": e, "score": a["score"],
                 "occurred_at": a["occurred_at"], "answer": a["_id"]} for e, a in latest.items()], session)
            self.nps_aggregates.delete_many({"period": period}, session=session)
            self.nps_aggregates.insert_one({"_id": f"{period}#{RESCORE_SHARD}", "period": period,
                                            "shard": RESCORE_SHARD, **counts}, session=session)
            self.bump_versions({period}, RESCORE_SHARD, session)
        mongo.run_transaction(self.client, work, seconds=RESCORE_TRANSACTION_SECONDS)
