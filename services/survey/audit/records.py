"""Audit entries (pure): who (the key's id, name and role), what (action), to what (target), when, why.

Every act the log covers stages its entry in the unit of work of the act itself (`record(uow, ...)`), so an
act never happens without its entry, nor an entry without its act. Entries are only ever inserted: no route
updates or deletes the `audit` collection (tests/integration/test_audit.py checks the routes).
"""
import uuid

from shared.domain import utcnow

ACTIONS = {  # action → how the export names it
    "exclusion.create": "剔除评价", "exclusion.restore": "恢复评价",
    "appeal.file": "提出申诉", "appeal.decide": "申诉复核",
    "period.release": "发布通报", "key.create": "创建密钥", "key.revoke": "吊销密钥",
    "demand.assign": "诉求交办", "demand.callback": "诉求回访",
}


def actor_of(key):
    """Who acted: a key's id, name and role (never the key itself); `None` for the system."""
    if key is None:
        return {"key": None, "name": "系统", "role": "system"}
    return {"key": key.get("_id") or key.get("key"), "name": key.get("name"), "role": key.get("role")}


def entry(key, action, target, why=None, details=None, at=None):
    """One audit entry; `key` the acting key (or an actor dict as demands.rules.actor_of gives), `target` a
    string naming the record ("demand:<id>", "key:<id>", "period:2026Q3", an exclusion target, …)."""
    return {"_id": uuid.uuid4().hex, "at": at or utcnow(), "actor": actor_of(key), "action": action,
            "target": target, "why": why, "details": details or {}}


def record(uow, key, action, target, why=None, details=None, at=None):
    """Stage the entry in `uow`, the unit of work of the act."""
    return uow.add("audit", entry(key, action, target, why, details, at))
