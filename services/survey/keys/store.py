"""Creating keys (the survey service owns them); checking them is shared.keys."""
import secrets
import sys

from pymongo.errors import DuplicateKeyError

from shared.domain import utcnow
from shared.keys import key_hash, new_key


def create_key(store, role, name, department=None):
    key = new_key()
    doc = {"_id": secrets.token_hex(8), "hash": key_hash(key), "role": role, "name": name,
           "department": department, "created_at": utcnow()}
    store.keys.insert_one(doc)
    return doc, key


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
