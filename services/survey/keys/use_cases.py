"""Creating keys (the survey service owns them)."""
import secrets
import sys
from datetime import timedelta

from services.survey.audit import records as audit_records
from services.survey.unit_of_work import StaleUpdate
from shared.domain import utcnow
from shared.errors import AlreadyExists, Invalid, NotFound, pair
from shared.keys import key_hash, new_key

BOOTSTRAP_ADMIN = "bootstrap-admin"


LONGEST = timedelta(days=3 * 366)


def key_record(role, name, department, key, id_=None, expires_at=None):
    return {"_id": id_ or secrets.token_hex(8), "hash": key_hash(key), "role": role, "name": name,
            "department": department, "created_at": utcnow(), "expires_at": expires_at, "revoked_at": None}


def create_key(services, role, name, department=None, expires_at=None, actor=None):
    """A new key (returned only here; stored hashed) and its record; a department key names a known department.
    `expires_at`, when given, lies in the future, within three years. `actor`: the admin's key, for the audit log."""
    if role == "department" and not services.departments.exists(department):
        raise Invalid("unknown department", {"department": pair("未知部门", "unknown department code")})
    now = utcnow()
    if expires_at is not None and not now < expires_at <= now + LONGEST:
        raise Invalid("expires_at must be in the future (within three years)",
                      {"expires_at": pair("有效期须晚于现在且不超过三年", "expires_at must be after now, within 3 years")})
    key = new_key()
    record = key_record(role, name, department, key, expires_at=expires_at)
    uow = services.unit_of_work()
    services.keys.stage(uow, record)
    audit_records.record(uow, actor, "key.create", f"key:{record['_id']}",
                         details={"role": role, "name": name, "department": department,
                                  "expires_at": expires_at.isoformat() if expires_at else None})
    uow.commit()
    return record, key


def revoke_key(services, key_id, actor=None):
    """Revoke a key: every process refuses it within shared.keys.CACHE_SECONDS; its dashboard sessions end.
    Revoking a revoked key changes nothing (and is not logged again)."""
    uow, now = services.unit_of_work(), utcnow()
    services.keys.stage_revoke(uow, key_id, now)
    audit_records.record(uow, actor, "key.revoke", f"key:{key_id}", at=now)
    try:
        uow.commit()
    except StaleUpdate:
        if not services.keys.exists(key_id):
            raise NotFound("no such key", {"id": pair("没有这个密钥", "no such key")}) from None


def ensure_admin_key(services):
    """With no MANYI_ADMIN_KEY, the first start generates an admin key and prints it once."""
    if services.config.admin_key:
        return None
    key = new_key()
    try:
        services.keys.add(key_record("admin", "bootstrap", None, key, id_=BOOTSTRAP_ADMIN))
    except AlreadyExists:
        return None
    print(f"manyi: generated admin key (shown once): {key}", file=sys.stderr, flush=True)
    return key
