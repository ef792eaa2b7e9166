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

    def stage(self, uow, record):
        """Stage a new key in `uow` (with its audit entry); the commit is AlreadyExists when its id is taken."""
        return uow.add("keys", record)

    def stage_revoke(self, uow, key_id, now):
        """Stage the revocation of a key not yet revoked: the commit is StaleUpdate when there is none such."""
        uow.update("keys", {"_id": key_id, "revoked_at": None}, {"$set": {"revoked_at": now}})

    def exists(self, key_id):
        return self.collection.count_documents({"_id": key_id}, limit=1) == 1

    def listed(self, skip=0, limit=0):
        """Key records without their digests, newest first (`limit` 0: all from `skip`)."""
        return list(self.collection.find({}, {"hash": 0}).sort([("created_at", -1), ("_id", 1)]).skip(skip).limit(limit))

    def count(self):
        return self.collection.count_documents({})
