"""Releases (通报) in MongoDB (`releases`, keyed by "{period}:{number}")."""


class Releases:
    def __init__(self, db):
        self.collection = db.releases

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
