"""The audit log in MongoDB (`audit`): read here; written only by `records.record` inside a unit of work."""
from datetime import datetime


class AuditLog:
    def __init__(self, db):
        self.collection = db.audit

    def page(self, criteria, skip, limit):
        """(entries on this page, newest first, how many match)."""
        found = query(criteria)
        entries = list(self.collection.find(found).sort([("at", -1), ("_id", 1)]).skip(skip).limit(limit))
        return entries, self.collection.count_documents(found)

    def all(self, criteria):
        return self.collection.find(query(criteria)).sort([("at", -1), ("_id", 1)])


def query(criteria):
    """Filters: action, actor (a key id or name), target (equal), from/to (moments, inclusive)."""
    found = {k: criteria[k] for k in ("action", "target") if criteria.get(k) is not None}
    if criteria.get("actor") is not None:
        found["$or"] = [{"actor.key": criteria["actor"]}, {"actor.name": criteria["actor"]}]
    span = {op: criteria[k] for k, op in (("from", "$gte"), ("to", "$lte")) if isinstance(criteria.get(k), datetime)}
    if span:
        found["at"] = span
    return found
