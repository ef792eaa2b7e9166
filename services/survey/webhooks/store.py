"""Subscriptions and their deliveries in `manyi_webhooks` (shared.webhooks.WebhookDb), as the API sees them.

The delivery worker (services/delivery) writes the deliveries' outcomes; this side creates subscriptions,
pings and redeliveries, and reads. Redelivering is a batched update, never one write per delivery.
"""
import base64
import json
import secrets

from flask import current_app
from pymongo import ReturnDocument
from pymongo.errors import PyMongoError

from shared.domain import utcnow
from shared.errors import Unavailable
from shared.webhooks import PING, SCHEMA_VERSION, WebhookDb, new_delivery, new_secret, seq_of

SUBSCRIPTION_HIDDEN = {"secret": 0}
DELIVERY_FIELDS = ("event", "event_id", "status", "attempts", "last_code", "last_error", "last_attempt_at",
                   "next_attempt_at", "delivered_at", "created_at")


def webhook_db():
    """The app's WebhookDb, made (and its indexes created) on first use."""
    ext = current_app.extensions
    if "manyi.webhooks" not in ext:
        db = WebhookDb(ext["manyi"].config)
        try:
            db.ensure_indexes()
        except PyMongoError as exc:
            raise Unavailable("database unavailable; try again shortly") from exc
        ext["manyi.webhooks"] = db
    return ext["manyi.webhooks"]


def subscription_out(doc, counts=None):
    return {**{k: v for k, v in doc.items() if k not in ("_id", "secret")}, "id": doc["_id"],
            **({"deliveries": counts} if counts is not None else {})}


def subscription(db, subscription_id):
    """One subscription without its secret, or None."""
    return db.subscriptions.find_one({"_id": subscription_id}, SUBSCRIPTION_HIDDEN)


def subscriptions(db):
    """Every subscription without its secret, oldest first."""
    return list(db.subscriptions.find({}, SUBSCRIPTION_HIDDEN).sort("created_at", 1))


def delivery(db, subscription_id, delivery_id, with_body=True):
    """One delivery of a subscription, or None."""
    return db.deliveries.find_one({"_id": delivery_id, "subscription": subscription_id},
                                  None if with_body else {"body": 0})


def create(db, body, actor):
    now = utcnow()
    doc = {"_id": "wh_" + secrets.token_hex(8), "url": body["url"], "events": sorted(set(body["events"])),
           "description": body.get("description", ""), "status": "active", "paused_reason": None,
           "paused_at": None, "failing_since": None, "secret": new_secret(), "created_at": now, "updated_at": now,
           "created_by": actor}
    db.subscriptions.insert_one(doc)
    return doc


def delivery_counts(db, subscription_id):
    counts = {s: 0 for s in ("pending", "delivered", "failed")}
    for row in db.deliveries.aggregate([{"$match": {"subscription": subscription_id}},
                                        {"$group": {"_id": "$status", "n": {"$sum": 1}}}]):
        counts[row["_id"]] = row["n"]
    oldest = db.deliveries.find_one({"subscription": subscription_id, "status": "pending"}, {"created_at": 1},
                                    sort=[("status", 1), ("created_at", 1)])
    counts["oldest_pending_at"] = oldest["created_at"].isoformat() if oldest else None
    return counts


def change(db, subscription_id, body, actor):
    """Apply a PATCH; resuming clears the failure streak and gives pending deliveries a fresh window."""
    now = utcnow()
    updates = {k: body[k] for k in ("url", "description") if k in body}
    if "events" in body:
        updates["events"] = sorted(set(body["events"]))
    if body.get("status") == "paused":
        updates |= {"status": "paused", "paused_at": now, "paused_reason": f"paused by {actor.get('name')}"}
    elif body.get("status") == "active":
        updates |= {"status": "active", "paused_at": None, "paused_reason": None, "failing_since": None}
    doc = db.subscriptions.find_one_and_update({"_id": subscription_id}, {"$set": {**updates, "updated_at": now}},
                                               SUBSCRIPTION_HIDDEN, return_document=ReturnDocument.AFTER)
    if doc is not None and body.get("status") == "active":
        db.deliveries.update_many({"subscription": subscription_id, "status": "pending"},
                                  {"$set": {"next_attempt_at": now, "window_from": now}})
    return doc


def delete(db, subscription_id):
    found = db.subscriptions.delete_one({"_id": subscription_id}).deleted_count
    if found:
        db.deliveries.delete_many({"subscription": subscription_id})
        db.lanes.delete_one({"_id": subscription_id})
    return found


def ping(db, subscription_id):
    """A `ping` delivery for the worker to send like any other (so it exercises the real path)."""
    now = utcnow()
    event_id = f"ping/{secrets.token_hex(8)}"
    event = {"id": event_id, "type": PING, "occurred_at": now.isoformat(), "schema_version": SCHEMA_VERSION,
             "data": {"subscription": subscription_id, "message": "pong? 满意 webhooks are set up"}}
    doc = new_delivery(subscription_id, event, now, seq_of(now))
    db.deliveries.insert_one(doc)
    return doc["_id"]


def delivery_out(doc, with_payload=False):
    out = {"id": doc["_id"], **{k: doc.get(k) for k in DELIVERY_FIELDS}}
    if with_payload:
        out["payload"] = json.loads(doc["body"])
    return out


def encode_cursor(doc):
    return base64.urlsafe_b64encode(f"{doc['seq']}|{doc['_id']}".encode()).decode()


def decode_cursor(cursor):
    seq, _, id_ = base64.urlsafe_b64decode(cursor.encode()).decode().rpartition("|")
    if not seq or not id_:
        raise ValueError("bad cursor")
    return seq, id_


def page(db, subscription_id, status, limit, cursor):
    """Newest first, one way: (seq, id) descending after the cursor."""
    found = {"subscription": subscription_id, **({"status": status} if status else {})}
    if cursor:
        seq, id_ = decode_cursor(cursor)
        found["$or"] = [{"seq": {"$lt": seq}}, {"seq": seq, "_id": {"$lt": id_}}]
    docs = list(db.deliveries.find(found, {"body": 0}).sort([("seq", -1), ("_id", -1)]).limit(limit + 1))
    more = len(docs) > limit
    docs = docs[:limit]
    return [delivery_out(d) for d in docs], (encode_cursor(docs[-1]) if more else None)


def redeliver(db, subscription_id, found):
    """Make deliveries pending again, due now, with a fresh retry window; returns how many."""
    now = utcnow()
    return db.deliveries.update_many({"subscription": subscription_id, **found},
                                     {"$set": {"status": "pending", "next_attempt_at": now, "window_from": now,
                                               "delivered_at": None}}).modified_count
