"""API keys (admin): create (the key shown once), list (never the key), revoke.

A revoked key stops working in every process within shared.keys.CACHE_SECONDS, and the dashboard
sessions opened with it end (gateway/sessions.py re-checks the key on every use).
"""
from datetime import timedelta

from flask_smorest import Blueprint, abort

from services.survey.keys.store import create_key, revoke_key
from services.survey.schemas import KeyCreatedSchema, KeyCreateSchema, KeyListSchema
from services.survey.web import services
from shared.domain import utcnow
from shared.keys import require

blp = Blueprint("keys", __name__, url_prefix="/api/v1", description="API keys (admin)")
LONGEST = timedelta(days=3 * 366)


@blp.route("/keys", methods=["POST"])
@require("admin")
@blp.arguments(KeyCreateSchema)
@blp.response(201, KeyCreatedSchema)
def create(body):
    """Create a key, optionally expiring at `expires_at`; the key itself is shown only in this answer."""
    store = services().store
    if body["role"] == "department" and not store.departments.find_one({"_id": body["department"]}):
        abort(400, message="unknown department", errors={"department": ["unknown department code"]})
    now = utcnow()
    if body["expires_at"] is not None and not now < body["expires_at"] <= now + LONGEST:
        abort(400, message="expires_at must be in the future (within three years)",
              errors={"expires_at": ["有效期须晚于现在且不超过三年", "expires_at must be after now, within 3 years"]})
    doc, key = create_key(store, body["role"], body["name"], body.get("department"), body["expires_at"])
    return {"id": doc["_id"], "role": doc["role"], "name": doc["name"], "department": doc["department"],
            "key": key, "expires_at": doc["expires_at"]}


@blp.route("/keys", methods=["GET"])
@require("admin")
@blp.response(200, KeyListSchema)
def list_():
    """Every stored key, newest first: who holds it, when it was last used, whether it still works."""
    docs = services().store.keys.find({}, {"hash": 0}).sort("created_at", -1)
    return {"keys": [{**doc, "id": doc["_id"], "revoked": bool(doc.get("revoked_at"))} for doc in docs]}


@blp.route("/keys/<key_id>", methods=["DELETE"])
@require("admin")
@blp.response(204)
@blp.alt_response(404, description="no such key")
def revoke(key_id):
    """Revoke a key: refused everywhere within 5 s; its dashboard sessions end."""
    if not revoke_key(services().store, key_id, utcnow()):
        abort(404, message="no such key", errors={"id": ["没有这个密钥", "no such key"]})
    return None
