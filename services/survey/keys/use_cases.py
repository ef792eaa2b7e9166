"""Creating keys (the survey service owns them)."""
import secrets
import sys

from shared.domain import utcnow
from shared.errors import AlreadyExists, Invalid, pair
from shared.keys import key_hash, new_key

BOOTSTRAP_ADMIN = "bootstrap-admin"


def key_record(role, name, department, key, id_=None):
    return {"_id": id_ or secrets.token_hex(8), "hash": key_hash(key), "role": role, "name": name,
            "department": department, "created_at": utcnow()}


def create_key(services, role, name, department=None):
    """A new key (returned only here; stored hashed) and its record; a department key names a known department."""
    if role == "department" and not services.departments.exists(department):
        raise Invalid("unknown department", {"department": pair("未知部门", "unknown department code")})
    key = new_key()
    return services.keys.add(key_record(role, name, department, key)), key


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
