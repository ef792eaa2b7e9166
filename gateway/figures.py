"""Read side: the figures of a period, derived from the worker's aggregates and cached per period.

A read costs O(departments): the aggregate documents of one period (one per department and worker
shard) hold every scope's n, Σq, Σq², level and channel counts; nothing here reads ratings or voices.
`figures_of` is a pure function of those documents, so it applies unchanged to a released snapshot of
them (copy a period's aggregate documents, merged over shards, into a release collection in one
transaction, and hand that copy to `figures_of`).

Freshness: the cache of a period is keyed by its version, the counters that every committing
transaction bumps in the same transaction as its data (per period and shard, `versions`). They are
assigned at commit, never by a clock, so data is shown as soon as it is visible, whichever worker wrote
it and whatever its clock says.
"""
import threading
from collections import OrderedDict

from flask import g, has_request_context

from shared import mongo, scoring
from shared.choice_figures import choice_figures
from shared.demand_figures import demand_stats
from shared.domain import YEAR_RE, period_key, period_range, previous_period, quarters_of, utcnow

CACHED_PERIODS = 32
DEPARTMENTS_VERSION = "*"


class PeriodFigures:
    """Every figure of one period (DESIGN §5–6), derived from aggregates merged over shards."""

    def __init__(self, aggregates, names, min_n, laggard_bottom, laggard_below=None, nps=None):
        self.min_n, self.scopes = min_n, aggregates
        self.nps_counts = nps
        entries = []
        for code in sorted(set(names) | set(aggregates)):
            stats = aggregates.get(code, {}).get(scoring.ALL)
            entry = {"code": code, "name": names.get(code, code), **scoring.stats_figures(stats, min_n)}
            entries.append({**entry, "excluded": excluded_count(stats, entry["suppressed"])})
        scoring.rank_departments(entries, laggard_bottom, laggard_below)
        self.departments = entries
        self.by_code = {e["code"]: e for e in entries}
        self._segments, self._gaps = {}, {}
        self.bodies = {}  # JSON replies made from these figures (gateway/api.py `serialized`)

    def department(self, code):
        entry = self.by_code.get(code)
        if entry is None:
            return None
        scopes = self.scopes.get(code, {})
        indicators = []
        for scope in sorted(s for s in scopes if s[0] == "indicator"):
            f = scoring.stats_figures(scopes[scope], self.min_n)
            indicators.append({"indicator": scope[1], "n": f["n"], "index": f["index"], "sd": f["sd"],
                               "ci95": f["ci95"], "suppressed": f["suppressed"]})
        channels = {"survey": 0, "visit": 0, **(scopes.get(scoring.ALL) or {}).get("channels", {})}
        return {**entry, "indicators": [i for i in indicators if i["n"] > 0], "channels": channels}

    def segments(self, code, attribute):
        if code not in self.by_code:
            return None
        if (code, attribute) not in self._segments:
            scopes = self.scopes.get(code, {})
            segments = []
            for scope in sorted(s for s in scopes if s[0] == "segment" and s[1] == attribute):
                f = scoring.stats_figures(scopes[scope], self.min_n)
                if f["n"] > 0:
                    segments.append({"value": scope[2], "n": f["n"], "index": f["index"], "sd": f["sd"],
                                     "ci95": f["ci95"], "suppressed": f["suppressed"]})
            self._segments[code, attribute] = {"by": attribute, "segments": segments,
                                               "gap": scoring.equal_treatment_gap(segments)}
        return self._segments[code, attribute]

    def gaps(self, attribute):
        """Every department's equal-treatment gap on `attribute`, widest first (null gaps last)."""
        if attribute not in self._gaps:
            entries = []
            for d in self.departments:
                gap = self.segments(d["code"], attribute)["gap"]
                entries.append({"code": d["code"], "name": d["name"], "gap": gap,
                                "significant": scoring.is_significant(gap["ci95"])})
            shown = sorted((e for e in entries if e["gap"]["value"] is not None), key=lambda e: -e["gap"]["value"])
            values = [e["gap"]["value"] for e in shown]
            for i, entry in enumerate(shown):  # competition ranks over a sorted list: linear, not quadratic
                tied = i > 0 and values[i - 1] - values[i] <= scoring.TIE
                entry["rank"] = shown[i - 1]["rank"] if tied else i + 1
            for entry in entries:
                entry.setdefault("rank", None)
            self._gaps[attribute] = sorted(entries, key=lambda e: (e["rank"] is None, e["rank"] or 0, e["code"]))
        return self._gaps[attribute]

    def nps(self):
        c = self.nps_counts or {"promoters": 0, "passives": 0, "detractors": 0}
        n = c["promoters"] + c["passives"] + c["detractors"]
        if scoring.is_suppressed(n, self.min_n):
            return {"n": n, "nps": None, "promoters": None, "passives": None, "detractors": None, "suppressed": True}
        return {"n": n, "nps": 100 * (c["promoters"] - c["detractors"]) / n, **c, "suppressed": False}


def excluded_count(stats, suppressed):
    """How many ratings of the department exclusions leave out of its figures (issue 16), shown with them.

    A count of ratings, never of enterprises, and only where the department's own figures are shown (null
    when they are withheld, like its levels): beside figures drawn from at least MANYI_MIN_N enterprises it
    names nobody, and a release holds back a department changed by fewer enterprises than that (an exclusion
    changes a voice, so shared/disclosure.py counts it as a change).
    """
    return None if suppressed else (stats or {}).get("excluded", 0)


def figures_of(aggregates, names, config, nps=None):
    """The figures of a period from its aggregate documents (any number of shards per department)."""
    return PeriodFigures(scoring.merge_aggregates(aggregates), names, config.min_n, config.laggard_bottom,
                         config.laggard_below, scoring.merge_nps(nps or []))


class Figures:
    def __init__(self, config):
        self.config = config
        self.client = mongo.client(config.mongo_url)
        self.db = self.client[config.scores_db]
        self.keys = self.client[config.survey_db].keys  # read-only, to check API keys
        self._cache, self._lock = OrderedDict(), threading.Lock()

    def ping(self):
        mongo.ping(self.client)

    def version(self, period):
        """What the period's figures depend on: every shard's commit counter of it and of the department
        list. Any commit that changes them changes this tuple; nothing else does. Asked once per period
        and request (a report reads one period many times), never cached across requests: gunicorn's
        workers each hold a cache, and a reader who saw new data in one must not get older from another."""
        return self.versions([period])[period]

    def versions(self, periods):
        """{period: version} of several periods in one round trip (a trend reads up to 41)."""
        memo = g.setdefault("manyi_versions", {}) if has_request_context() else {}
        missing = [p for p in periods if p not in memo]
        if missing:
            found = {p: [] for p in missing}
            shared = []
            for d in self.db.versions.find({"period": {"$in": [*missing, DEPARTMENTS_VERSION]}},
                                           {"period": 1, "version": 1}):
                (shared if d["period"] == DEPARTMENTS_VERSION else found[d["period"]]).append((d["_id"], d["version"]))
            for p in missing:
                memo[p] = tuple(sorted(found[p] + shared))
        return {p: memo[p] for p in periods}

    def figures(self, period):
        """The PeriodFigures of `period`, rebuilt only when its version has moved."""
        version = self.version(period)
        with self._lock:
            hit = self._cache.get(period)
            if hit and hit[0] == version:
                self._cache.move_to_end(period)
                return hit[1]
        names = {d["_id"]: d["name"] for d in self.db.departments.find({})}
        result = figures_of(self.db.aggregates.find({"period": period}), names, self.config,
                            self.db.nps_aggregates.find({"period": period}))
        with self._lock:
            self._cache[period] = (version, result)
            self._cache.move_to_end(period)
            while len(self._cache) > CACHED_PERIODS:
                self._cache.popitem(last=False)
        return result

    def period(self, period):
        return {"departments": self.figures(period).departments}

    def department(self, period, code):
        return self.figures(period).department(code)

    def indicator_names(self, department):
        """{indicator code: what the surveys call it} of one department (a handful of documents; names are not
        figures, so a release shows today's names)."""
        return {d["indicator"]: d["name"] for d in self.db.indicators.find({"department": department})}

    def knows(self, code):
        """A department that is listed or has ever been rated."""
        with self._lock:
            if any(code in figures.by_code for _, figures in self._cache.values()):
                return True
        return self.db.departments.find_one({"_id": code}, {"_id": 1}) is not None or \
            self.db.aggregates.find_one({"department": code}, {"_id": 1}) is not None

    def periods(self):
        """Periods with data, oldest first (a year just before its quarters), from the small `versions` collection."""
        found = {d["period"] for d in self.db.versions.find({}, {"period": 1})} - {DEPARTMENTS_VERSION}
        return sorted(found, key=period_key)

    def segments(self, period, code, attribute):
        """{"by", "segments", "gap"} of one department, or None for an unknown department."""
        return self.figures(period).segments(code, attribute)

    def gaps(self, period, attribute):
        return self.figures(period).gaps(attribute)

    def trend(self, code, first, last):
        """[{period, n, index, suppressed, change, change_ci95, change_significant}] from `first` to `last`."""
        periods = [previous_period(first), *period_range(first, last)]
        self.versions(periods)
        by_period = {}
        for p in periods:
            entry = self.figures(p).by_code.get(code)
            if entry is not None:
                by_period[p] = entry
        return scoring.trend(by_period, periods, self.config.min_n)

    def change(self, period, code):
        """The department's change from the previous period (Welch), as in its trend."""
        return self.trend(code, period, period)[0]

    def changes(self, period):
        """{code: change from the previous period} of every department listed in `period`."""
        current, previous = self.figures(period), self.figures(previous_period(period))
        empty = scoring.stats_figures(None, self.config.min_n)
        return {code: scoring.period_change(previous.by_code.get(code), entry or empty)
                for code, entry in current.by_code.items()}

    def nps(self, period):
        """NPS of a period, one voice per enterprise: its latest answer in the period."""
        return {"period": period, **self.figures(period).nps()}

    def choices(self, period):
        """Option counts of the choice questions of the surveys of `period` (a year: of its quarters). Not
        cached: a few documents per question."""
        where = {"$in": quarters_of(period)} if YEAR_RE.match(period) else period
        return choice_figures(self.db.choice_counts.find({"period": where}), self.config.min_n)

    def demands(self, period):
        """Demand figures per department of the demands received in `period` (DESIGN §6), from the states
        the worker keeps (`demands`). Not cached: `overdue` moves with the clock, and a county's demands
        in a quarter are few."""
        where = {"$in": quarters_of(period)} if YEAR_RE.match(period) else period
        demands = list(self.db.demands.find({"period": where}, {"_id": 0}))
        departments = [d["_id"] for d in self.db.departments.find({}, {"_id": 1})]
        return demand_stats(demands, departments, utcnow(), self.config.min_n)

