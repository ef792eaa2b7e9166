"""API keys in MongoDB (`keys`); checking a presented key is shared.keys."""
from pymongo.errors import DuplicateKeyError

from shared.errors import AlreadyExists, pair


class Keys:
    def __init__(self, db):
        self.collection = db.keys

    def add(self, record):
        """Store a key record now (keys back no event); AlreadyExists when its id is taken."""
        try:
            self.collection.insert_one(record)
        except DuplicateKeyError as exc:
            raise AlreadyExists(f"key {record['_id']} exists", {"id": pair("密钥已存在", "already exists")}) from exc
        return record

    def listed(self, skip=0, limit=0):
        """Key records without their digests, newest first (`limit` 0: all from `skip`)."""
        return list(self.collection.find({}, {"hash": 0}).sort([("created_at", -1), ("_id", 1)]).skip(skip).limit(limit))

    def count(self):
        return self.collection.count_documents({})

    def revoke(self, key_id, now):
        """Mark a key revoked (kept, so the list shows who had it); False when there is no such key."""
        result = self.collection.update_one({"_id": key_id, "revoked_at": None}, {"$set": {"revoked_at": now}})
        return result.matched_count == 1 or self.collection.count_documents({"_id": key_id}, limit=1) == 1
