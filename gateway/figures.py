"""Read side: the figures of a period, computed from the stored cells and cached until data changes."""
import threading
from collections import defaultdict

from shared import mongo, scoring


class Figures:
    def __init__(self, config):
        self.config = config
        self.client = mongo.client(config.mongo_url)
        self.db = self.client[config.scores_db]
        self.keys = self.client[config.survey_db].keys  # read-only, to check API keys
        self._cache, self._lock = {}, threading.Lock()

    def ping(self):
        mongo.ping(self.client)

    def version(self, period):
        """Id of the newest committed batch that touched `period` or the department list."""
        latest = self.db.batches.find_one({"$or": [{"periods": period}, {"departments": True}]},
                                          {"_id": 1}, sort=[("at", -1)])
        return latest["_id"] if latest else None

    def period(self, period):
        """{"cells_by_department", "departments": [entry]} for a period, recomputed only on new data."""
        version = self.version(period)
        with self._lock:
            hit = self._cache.get(period)
        if hit and hit[0] == version and version is not None:
            return hit[1]
        result = self._compute(period)
        with self._lock:
            self._cache[period] = (version, result)
        return result

    def _compute(self, period):
        names = {d["_id"]: d["name"] for d in self.db.departments.find({})}
        by_department = defaultdict(list)
        for cell in self.db.cells.find({"period": period}, {"segment": 0}):
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

    def periods(self):
        return sorted(self.db.cells.distinct("period"), key=lambda p: (p[:4], p[-1]))
