"""What portals read: released figures (通报), with complementary suppression (DESIGN §9).

A release is a frozen copy of a period's aggregate documents that the scoring worker takes when it applies
`period.released` (services/scoring/repository.py `snapshot`). `ReleasedFigures` hands that copy to the same
PeriodFigures the live figures come from (gateway/figures.py), in a subclass that applies shared/disclosure.py
to every breakdown. Admin keys keep reading live figures, unprotected and marked unreleased.
"""
import threading

from flask import g, has_request_context

from gateway.figures import Figures, PeriodFigures
from shared import disclosure, scoring
from shared.choice_figures import choice_figures
from shared.demand_figures import demand_stats
from shared.domain import period_key


class NotReleased(Exception):
    """The period (or the asked-for release of it) has not been released to portals."""

    def __init__(self, period, release=None):
        self.period, self.release = period, release
        super().__init__(f"{period} release {release}" if release else period)


class ProtectedPeriodFigures(PeriodFigures):
    """A period's figures with every breakdown protected by complementary suppression (shared/disclosure.py)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._protected = {}

    def department(self, code):
        entry = super().department(code)
        if entry is None:
            return None
        return {**entry, "indicators": disclosure.protect_parts(entry["indicators"], self.min_n),
                "channels": disclosure.channel_counts(entry["channels"], entry["suppressed"])}

    def segment_values(self, attribute):
        """Every value of `attribute` among the period's raters, county-wide."""
        return sorted({scope[2] for scopes in self.scopes.values() for scope in scopes
                       if scope[0] == "segment" and scope[1] == attribute})

    def segments(self, code, attribute):
        if (code, attribute) not in self._protected:
            raw = super().segments(code, attribute)
            if raw is None:
                return None
            segments = disclosure.segment_breakdown(raw["segments"], self.segment_values(attribute), self.min_n)
            self._protected[code, attribute] = {"by": attribute, "segments": segments,
                                                "gap": scoring.equal_treatment_gap(segments)}
        return self._protected[code, attribute]


class ReleasedFigures(Figures):
    """Figures of the frozen documents of each period's latest release (or of the releases pinned by `pins`
    {period: N}), derived as the live ones are, then protected."""

    def __init__(self, config, pins=None):
        super().__init__(config)
        self.pins = dict(pins or {})
        self._frozen, self._frozen_lock = {}, threading.Lock()

    def release_of(self, period):
        """The release record portals see for `period`; NotReleased before its first release (or no release N).
        Looked up once per request (a portal's read asks several times)."""
        record = self.records([period])[period]
        if record is None:
            raise NotReleased(period, self.pins.get(period))
        return record

    def _records(self):
        """{period: release record or None} looked up during this request."""
        return g.setdefault("manyi_releases", {}).setdefault(id(self), {}) if has_request_context() else {}

    def released(self, period):
        try:
            return self.release_of(period)
        except NotReleased:
            return None

    def versions(self, periods):
        """{period: id of the release read}."""
        records = self.records(periods)
        return {p: (records[p] or {}).get("_id") for p in periods}

    def records(self, periods):
        """{period: release record read, or None}, looked up in one round trip (a portal's trend reads up to 41
        periods) and kept for the request: the pinned release, else the latest."""
        records = self._records()
        missing = [p for p in periods if p not in records]
        if missing:
            found = {}
            for r in self.db.releases.find({"period": {"$in": missing}}):
                pinned = self.pins.get(r["period"])
                if (pinned is None or r["release"] == pinned) and \
                        r["release"] > (found.get(r["period"]) or {"release": 0})["release"]:
                    found[r["period"]] = r
            records.update({p: found.get(p) for p in missing})
        return records

    def documents(self, record, kind):
        return [d["doc"] for d in self.db.released.find({"release": record["_id"], "kind": kind})]

    def figures(self, period):
        """The protected PeriodFigures of the period's release (empty before its first release); a release
        never changes, so each is computed once per process."""
        record = self.released(period)
        key = record["_id"] if record else None
        with self._frozen_lock:
            if key in self._frozen:
                return self._frozen[key]
        names = {d["code"]: d["name"] for d in record["departments"]} if record else {}
        aggregates = self.documents(record, "aggregates") if record else []
        nps = self.documents(record, "nps_aggregates") if record else []
        result = ProtectedPeriodFigures(scoring.merge_aggregates(aggregates), names, self.config.min_n,
                                        self.config.laggard_bottom, self.config.laggard_below, scoring.merge_nps(nps))
        if key is not None:
            with self._frozen_lock:
                self._frozen[key] = result
        return result

    def periods(self):
        return sorted(self.db.releases.distinct("period"), key=period_key)

    def choices(self, period):
        """The release's option counts (held at the previous release when fewer than MIN_N enterprises changed
        them, services/scoring/repository.py `snapshot`)."""
        return choice_figures(self.documents(self.release_of(period), "choice_counts"), self.config.min_n)

    def demands(self, period):
        """The release's demand figures, `overdue` judged at its own moment; a department's withheld whole when
        its demands come from fewer than MIN_N enterprises."""
        record = self.release_of(period)
        states = self.documents(record, "demands")
        codes = [d["code"] for d in record["departments"]]
        figures = demand_stats(states, codes, record["released_at"], self.config.min_n)
        raised = {}
        for d in states:
            # A demand without a pseudonym (from before it was carried) counts as the same unknown enterprise.
            raised.setdefault(d["department"], set()).add(d.get("raised_by"))
        return [disclosure.demand_figures(f, len(raised.get(f["code"], ())), self.config.min_n) for f in figures]

    def trend(self, code, first, last):
        points = super().trend(code, first, last)
        for point in points:
            point["released"] = self.released(point["period"]) is not None
            if not point["released"]:
                point.update(n=None, index=None, suppressed=True)
        return points


class Releases:
    """The released views portals read: the latest releases, and views pinned to an earlier release (cached)."""

    def __init__(self, config, client):
        self.config, self.client = config, client
        self.latest = ReleasedFigures(config)
        self._pinned, self._lock = {}, threading.Lock()

    def view(self, period=None, release=None):
        """Figures as portals see them; raises NotReleased when `period` (or its release `release`) is not out."""
        if release is None:
            figures = self.latest
        else:
            with self._lock:
                figures = self._pinned.get((period, release))
                if figures is None:
                    figures = self._pinned[(period, release)] = ReleasedFigures(self.config, {period: release})
        if period is not None:
            figures.release_of(period)
        return figures

    def listing(self):
        """{period: latest release record}."""
        latest = {}
        for r in self.client[self.config.scores_db].releases.find({}, {"period": 1, "release": 1, "released_at": 1,
                                                                              "held_back": 1}):
            if r["period"] not in latest or r["release"] > latest[r["period"]]["release"]:
                latest[r["period"]] = r
        return latest
