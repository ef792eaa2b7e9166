"""Creating keys (the survey service owns them); checking them is shared.keys."""
import secrets
import sys

from pymongo.errors import DuplicateKeyError

from shared.domain import utcnow
from shared.keys import key_hash, new_key


def create_key(store, role, name, department=None, expires_at=None):
    key = new_key()
    doc = {"_id": secrets.token_hex(8), "hash": key_hash(key), "role": role, "name": name,
           "department": department, "created_at": utcnow(), "expires_at": expires_at, "revoked_at": None}
    store.keys.insert_one(doc)
    return doc, key


def revoke_key(store, key_id, now):
    """Mark a key revoked (kept, so the list shows who had it); False when there is no such key."""
    result = store.keys.update_one({"_id": key_id, "revoked_at": None}, {"$set": {"revoked_at": now}})
    return result.matched_count == 1 or store.keys.count_documents({"_id": key_id}, limit=1) == 1


def ensure_admin_key(store, config):
    """With no MANYI_ADMIN_KEY, the first start generates an admin key and prints it once."""
    if config.admin_key:
        return None
    key = new_key()
    try:
        store.keys.insert_one({"_id": "bootstrap-admin", "hash": key_hash(key), "role": "admin",
                               "name": "bootstrap", "department": None, "created_at": utcnow()})
    except DuplicateKeyError:
        return None
    print(f"manyi: generated admin key (shown once): {key}", file=sys.stderr, flush=True)
    return key
