"""Releases (通报) in MongoDB (`releases`, keyed by "{period}:{number}")."""


class Releases:
    def __init__(self, db):
        self.collection = db.releases
        self.client = db.client

    def applied(self, period, number, scores_db):
        """Whether scoring has frozen release N of the period, i.e. portals can read it. Read only, so that the
        release answers once it is visible; the snapshot itself is scoring's (services/scoring/repository.py)."""
        return self.client[scores_db].releases.find_one({"period": period, "release": number}, {"_id": 1}) is not None

    def add(self, uow, record):
        """Stage release N of a period; a concurrent release of the same number makes the commit AlreadyExists."""
        return uow.add("releases", record)

    def latest(self, period):
        """The period's latest release, or None."""
        return self.collection.find_one({"period": period}, sort=[("release", -1)])

    def latest_of_each(self):
        """{period: its latest release record}."""
        latest = {}
        for r in self.collection.find({}):
            if r["period"] not in latest or r["release"] > latest[r["period"]]["release"]:
                latest[r["period"]] = r
        return latest
