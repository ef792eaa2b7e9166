"""What portals read: released figures (通报), with complementary suppression (DESIGN §9).

A release is a frozen copy of a period's aggregate documents that the scoring worker takes when it applies
`period.released` (services/scoring/repository.py `snapshot`). `ReleasedDocuments` serves that copy through
the same interface as the live documents, so `Figures` derives released figures with the very functions it
uses for live ones; `ReleasedFigures` then applies shared/disclosure.py to every breakdown. Admin keys keep
reading live figures, unprotected and marked unreleased.
"""
import threading

from gateway.figures import Figures
from shared import disclosure, scoring


class NotReleased(Exception):
    """The period (or the asked-for release of it) has not been released to portals."""

    def __init__(self, period, release=None):
        self.period, self.release = period, release
        super().__init__(f"{period} release {release}" if release else period)


def release_id(period, number):
    return f"{period}:{number}"


class ReleasedDocuments:
    """The frozen documents of each period's latest release, or of the releases pinned by `pins` {period: N}."""

    def __init__(self, db, pins=None):
        self.db, self.pins = db, dict(pins or {})

    def release_of(self, period):
        """The release record portals see for `period`, or None before its first release."""
        if period in self.pins:
            return self.db.releases.find_one({"_id": release_id(period, self.pins[period])})
        return self.db.releases.find_one({"period": period}, sort=[("release", -1)])

    def version(self, period):
        record = self.release_of(period)
        return record["_id"] if record else None

    def _frozen(self, period, kind):
        record = self.release_of(period)
        if record is None:
            return []
        return [d["doc"] for d in self.db.released.find({"release": record["_id"], "kind": kind})]

    def department_names(self):
        names = {d["_id"]: d["name"] for d in self.db.departments.find({})}
        return names

    def cells(self, period):
        return self._frozen(period, "cells")

    def nps(self, period):
        return self._frozen(period, "nps")

    def demands(self, period):
        return self._frozen(period, "demands")

    def knows(self, code):
        return self.db.departments.find_one({"_id": code}, {"_id": 1}) is not None or \
            self.db.released.find_one({"kind": "cells", "doc.department": code}, {"_id": 1}) is not None

    def periods(self):
        return self.db.releases.distinct("period")


class ReleasedFigures(Figures):
    """Figures of released documents, each breakdown protected by complementary suppression."""

    def __init__(self, config, client, pins=None):
        super().__init__(config, ReleasedDocuments(client[config.scores_db], pins), client)

    def release_of(self, period):
        record = self.documents.release_of(period)
        if record is None:
            raise NotReleased(period, self.documents.pins.get(period))
        return record

    def department(self, period, code):
        entry = super().department(period, code)
        if entry is None:
            return None
        return {**entry, "indicators": disclosure.protect_parts(entry["indicators"], self.config.min_n),
                "channels": disclosure.channel_counts(entry["channels"], entry["suppressed"])}

    def segment_values(self, period, attribute):
        """Every value of `attribute` among the period's raters, county-wide."""
        def compute():
            return sorted({(c.get("segment") or {}).get(attribute) for cells in
                           self.period(period)["cells_by_department"].values() for c in cells} - {None})
        return self._cached(("values", period, attribute), period, compute)

    def segments(self, period, code, attribute):
        def compute():
            if super(ReleasedFigures, self).department(period, code) is None:
                return None
            cells = self.period(period)["cells_by_department"].get(code, [])
            segments = disclosure.segment_breakdown(scoring.segment_indices(cells, attribute, self.config.min_n),
                                                    self.segment_values(period, attribute), self.config.min_n)
            return {"by": attribute, "segments": segments, "gap": scoring.equal_treatment_gap(segments)}
        return self._cached(("protected-segments", period, code, attribute), period, compute)

    def demands(self, period):
        states = self.documents.demands(period)
        figures = super().demands(period)
        raised = {}
        for d in states:
            # A demand without a pseudonym (from before it was carried) counts as the same unknown enterprise.
            raised.setdefault(d["department"], set()).add(d.get("raised_by"))
        return [disclosure.demand_figures(f, len(raised.get(f["code"], ())), self.config.min_n) for f in figures]

    def now(self, period):
        """A release's demand figures are as they were when it was made: `overdue` judged at its moment."""
        return self.release_of(period)["released_at"]

    def trend(self, code, first, last):
        points = super().trend(code, first, last)
        for point in points:
            point["released"] = self.documents.release_of(point["period"]) is not None
            if not point["released"]:
                point.update(n=None, index=None, suppressed=True)
        return points


class Releases:
    """The released views portals read: the latest releases, and views pinned to an earlier release (cached)."""

    def __init__(self, config, client):
        self.config, self.client = config, client
        self.latest = ReleasedFigures(config, client)
        self._pinned, self._lock = {}, threading.Lock()

    def view(self, period=None, release=None):
        """Figures as portals see them; raises NotReleased when `period` (or its release `release`) is not out."""
        if release is None:
            figures = self.latest
        else:
            with self._lock:
                figures = self._pinned.get((period, release))
                if figures is None:
                    figures = self._pinned[(period, release)] = ReleasedFigures(self.config, self.client,
                                                                                {period: release})
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
