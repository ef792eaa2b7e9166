"""Read side: the figures of a period, computed from the stored cells and cached until data changes."""
import threading
from collections import defaultdict

from shared import mongo, scoring
from shared.demand_figures import demand_stats
from shared.domain import previous_quarter, quarter_range, utcnow


class LiveDocuments:
    """The aggregate documents the worker keeps up to date (`manyi_scores`): what admin keys read."""

    def __init__(self, db):
        self.db = db

    def version(self, period):
        """Id of the newest committed batch that touched `period` or the department list."""
        latest = self.db.batches.find_one({"$or": [{"periods": period}, {"departments": True}]},
                                          {"_id": 1}, sort=[("at", -1)])
        return latest["_id"] if latest else None

    def department_names(self):
        return {d["_id"]: d["name"] for d in self.db.departments.find({})}

    def cells(self, period):
        return self.db.cells.find({"period": period})

    def nps(self, period):
        return self.db.nps.find({"period": period}, {"enterprise": 1, "score": 1, "occurred_at": 1})

    def demands(self, period):
        return list(self.db.demands.find({"period": period}))

    def knows(self, code):
        return self.db.departments.find_one({"_id": code}, {"_id": 1}) is not None or \
            self.db.cells.find_one({"department": code}, {"_id": 1}) is not None

    def periods(self):
        return self.db.cells.distinct("period")


class Figures:
    def __init__(self, config, documents=None, client=None):
        self.config = config
        self.client = client or mongo.client(config.mongo_url)
        self.db = self.client[config.scores_db]
        self.keys = self.client[config.survey_db].keys  # read-only, to check API keys
        self.documents = documents or LiveDocuments(self.db)
        self._cache, self._lock = {}, threading.Lock()

    def ping(self):
        mongo.ping(self.client)

    def version(self, period):
        return self.documents.version(period)

    def period(self, period):
        """{"cells_by_department", "departments": [entry]} for a period, recomputed only on new data."""
        return self._cached(period, period, lambda: self._compute(period))

    def _cached(self, key, period, compute):
        """`compute()` cached under `key` until a batch touches `period` (the per-period invalidation)."""
        version = self.version(period)
        with self._lock:
            hit = self._cache.get(key)
        if hit and hit[0] == version and version is not None:
            return hit[1]
        result = compute()
        if version is not None:  # a period nobody rated is not kept: any quarter can be asked for
            with self._lock:
                self._cache[key] = (version, result)
        return result

    def _compute(self, period):
        names = self.documents.department_names()
        by_department = defaultdict(list)
        for cell in self.documents.cells(period):
            by_department[cell["department"]].append(cell)
        entries = []
        for code in sorted(set(names) | set(by_department)):
            entry = {"code": code, "name": names.get(code, code),
                     **scoring.department_index(by_department[code], self.config.min_n)}
            entries.append(entry)
        scoring.rank_departments(entries, self.config.laggard_bottom, self.config.laggard_below)
        return {"cells_by_department": by_department, "departments": entries}

    def department(self, period, code):
        data = self.period(period)
        entry = next((e for e in data["departments"] if e["code"] == code), None)
        if entry is None:
            return None
        cells = data["cells_by_department"].get(code, [])
        return {**entry, "indicators": scoring.indicator_indices(cells, self.config.min_n),
                "channels": scoring.channel_counts(cells)}

    def knows(self, code):
        """A department that is listed or has ever been rated."""
        return self.documents.knows(code)

    def periods(self):
        return sorted(self.documents.periods(), key=lambda p: (p[:4], p[-1]))

    def segments(self, period, code, attribute):
        """{"by", "segments", "gap"} of one department, or None for an unknown department."""
        def compute():
            if self.department(period, code) is None:
                return None
            cells = self.period(period)["cells_by_department"].get(code, [])
            segments = scoring.segment_indices(cells, attribute, self.config.min_n)
            return {"by": attribute, "segments": segments, "gap": scoring.equal_treatment_gap(segments)}
        return self._cached(("segments", period, code, attribute), period, compute)

    def gaps(self, period, attribute):
        """Every department's equal-treatment gap on `attribute`, widest first (null gaps last)."""
        def compute():
            entries = []
            for d in self.period(period)["departments"]:
                gap = self.segments(period, d["code"], attribute)["gap"]
                entries.append({"code": d["code"], "name": d["name"], "gap": gap,
                                "significant": scoring.is_significant(gap["ci95"])})
            shown = [e for e in entries if e["gap"]["value"] is not None]
            ranks = scoring.competition_ranks([e["gap"]["value"] for e in shown])
            for entry, rank in zip(shown, ranks):
                entry["rank"] = rank
            for entry in entries:
                entry.setdefault("rank", None)
            return sorted(entries, key=lambda e: (e["rank"] is None, e["rank"] or 0, e["code"]))
        return self._cached(("gaps", period, attribute), period, compute)

    def trend(self, code, first, last):
        """[{period, n, index, suppressed, change, change_ci95, change_significant}] from `first` to `last`."""
        periods = [previous_quarter(first), *quarter_range(first, last)]
        by_period = {}
        for p in periods:
            entry = next((e for e in self.period(p)["departments"] if e["code"] == code), None)
            if entry is not None:
                by_period[p] = entry
        return scoring.trend(by_period, periods, self.config.min_n)

    def change(self, period, code):
        """The department's change from the previous quarter (Welch), as in its trend."""
        return self.trend(code, period, period)[0]

    def nps(self, period):
        """NPS of a period, one voice per enterprise: its latest answer in the period."""
        def compute():
            latest = {}
            for doc in self.documents.nps(period):
                seen = latest.get(doc["enterprise"])
                if seen is None or (doc["occurred_at"], doc["_id"]) > (seen["occurred_at"], seen["_id"]):
                    latest[doc["enterprise"]] = doc
            return {"period": period, **scoring.nps([d["score"] for d in latest.values()], self.config.min_n)}
        return self._cached(("nps", period), period, compute)

    def demands(self, period):
        """Demand figures per department of the demands received in `period` (DESIGN §6), from the states
        the worker keeps (`demands`). Not cached: `overdue` moves with the clock, and a county's demands
        in a quarter are few."""
        demands = self.documents.demands(period)
        return demand_stats(demands, list(self.documents.department_names()), self.now(period), self.config.min_n)

    def now(self, period):
        """The moment `overdue` is judged at: now for live figures (a release judges at its own moment)."""
        return utcnow()
