"""Enterprises in MongoDB (`enterprises`, keyed by 统一社会信用代码)."""
from pymongo import ReplaceOne

from shared import mongo
from shared.domain import SEGMENT_ATTRIBUTES

FIELDS = ("name", *SEGMENT_ATTRIBUTES)  # besides the code, which is the _id
BATCH = 1000


IMPORT_SECONDS = 300


class Enterprises:
    def __init__(self, db):
        self.db = db
        self.collection = db.enterprises

    def save(self, enterprise, at):
        """Create or update one enterprise (an administrator's edit, not a hot path); True when it is new."""
        result = self.collection.update_one(
            {"_id": enterprise["code"]}, {"$set": {**{k: enterprise[k] for k in FIELDS}, "updated_at": at}},
            upsert=True)
        return result.upserted_id is not None

    def save_all(self, enterprises, at, progress=None):
        """Upsert `enterprises` in one journaled transaction of batched writes; returns how many were new.

        One transaction is what makes a file all-or-nothing even if the database fails half-way, and it is
        also the fast path (one journal commit instead of one per batch). `progress(done, total)` after each
        batch.
        """
        def work(session):
            created = 0
            for start in range(0, len(enterprises), BATCH):
                batch = enterprises[start:start + BATCH]
                # Whole-document replacement: an enterprise is exactly these fields, and the server applies a
                # replacement about twice as fast as a $set update.
                result = self.collection.bulk_write([ReplaceOne({"_id": e["code"]}, {
                    **{k: e[k] for k in FIELDS}, "updated_at": at}, upsert=True) for e in batch],
                    ordered=False, session=session)
                created += result.upserted_count
                if progress:
                    progress(start + len(batch), len(enterprises))
            return created
        # A county's whole list in one transaction takes longer than the bound meant for hot paths.
        return mongo.run_transaction(self.db.client, work, seconds=IMPORT_SECONDS)

    def get(self, code):
        """The enterprise as the API shows it ({code, name, scale, …}), or None."""
        doc = self.collection.find_one({"_id": code})
        return as_enterprise(doc) if doc else None

    def all(self):
        return [as_enterprise(d) for d in self.collection.find({}).sort("_id", 1)]

    def search(self, pattern, skip, limit):
        """(enterprises on this page, how many match): code, name, township or industry matching the regular
        expression `pattern` (case-insensitive; the caller escapes what a person typed), by code."""
        found = {}
        if pattern:
            like = {"$regex": pattern, "$options": "i"}
            found = {"$or": [{"_id": like}, {"name": like}, {"township": like}, {"industry": like}]}
        page = self.collection.find(found).sort("_id", 1).skip(skip).limit(limit)
        return [as_enterprise(d) for d in page], self.collection.count_documents(found)

    def values(self, attribute):
        """The values of a segment attribute in the register (the choices of a filter)."""
        return sorted(v for v in self.collection.distinct(attribute) if v)

    def codes_where(self, criteria):
        """The codes of the enterprises whose attributes equal `criteria` ({} for all), by code."""
        return [d["_id"] for d in self.collection.find(criteria, {"_id": 1}).sort("_id", 1)]

    def known(self, codes):
        """The codes among `codes` that name a registered enterprise."""
        return {d["_id"] for d in mongo.find_in(self.collection, "_id", codes, {"_id": 1})}

    def names(self, codes):
        return {d["_id"]: d["name"] for d in mongo.find_in(self.collection, "_id", list(codes), {"name": 1})}

    def of(self, codes):
        """{code: enterprise} for a set of codes, reading the whole register in one pass.

        A $in of 10,000 codes takes a minute on the embedded server, the full read a tenth of a second, and a
        county has tens of thousands of enterprises at most.
        """
        codes = set(codes)
        return {d["_id"]: as_enterprise(d) for d in self.collection.find({}, {"updated_at": 0}) if d["_id"] in codes}


def as_enterprise(doc):
    return {"code": doc["_id"], **{k: doc[k] for k in FIELDS}}
