"""Stored tokens become digests (issue 11): invitations, their events and answers written before tokens were
hashed are converted when the service starts, before it serves a request.

Idempotent and safe to kill at any point: an old invitation (its `_id` the token, no `sealed` field) is
copied under its digest with the token sealed, then deleted; a second run finds the copy already there
(duplicate key, ignored) and deletes the original. Events move the same way. An answer's `token` becomes
`invitation` (the digest) in one update per answer, matched on the old token, so it applies once. A marker
written after the last step lets later starts skip the scans.
"""
from pymongo import UpdateOne
from pymongo.errors import DuplicateKeyError

from services.survey.invitations.tokens import invitation_id, seal_of

MARKER = "invitation-tokens-hashed"
BATCH = 500


def _move(collection, old, new):
    try:
        collection.insert_one(new)
    except DuplicateKeyError:
        pass  # copied by an earlier run (or another process) that stopped before deleting the original
    collection.delete_one({"_id": old["_id"]})


def hash_stored_tokens(db, config):
    """Convert every plaintext token in `db` (the survey database); returns the number of documents changed."""
    if db.migrations.find_one({"_id": MARKER}, {"_id": 1}):
        return 0
    seal, changed = seal_of(config), 0
    for old in db.invitations.find({"sealed": {"$exists": False}}):
        token = old["_id"]
        inv_id = invitation_id(token)
        _move(db.invitations, old, {**old, "_id": inv_id, "sealed": seal.seal(token, inv_id) if seal else None})
        changed += 1
    for old in db.invitation_events.find({"token": {"$exists": True}}):
        inv_id = invitation_id(old["token"])
        new = {k: v for k, v in old.items() if k != "token"}
        _move(db.invitation_events, old, {**new, "_id": f"{inv_id}:{old['kind']}", "invitation": inv_id})
        changed += 1
    updates = []
    for answer in db.responses.find({"token": {"$exists": True}}, {"token": 1}):
        updates.append(UpdateOne({"_id": answer["_id"], "token": answer["token"]},
                                 {"$set": {"invitation": invitation_id(answer["token"])}, "$unset": {"token": ""}}))
        if len(updates) == BATCH:
            changed += db.responses.bulk_write(updates, ordered=False).modified_count
            updates = []
    if updates:
        changed += db.responses.bulk_write(updates, ordered=False).modified_count
    try:
        db.migrations.insert_one({"_id": MARKER})
    except DuplicateKeyError:
        pass  # another process finished the same conversion at the same time
    return changed
