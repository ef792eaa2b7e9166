"""API keys (admin): create (the key shown once), list (never the key), revoke.

A revoked key stops working in every process within shared.keys.CACHE_SECONDS, and the dashboard
sessions opened with it end (gateway/sessions.py re-checks the key on every use).
"""
from flask import g

from services.survey.keys.schemas import KeyCreatedSchema, KeyCreateSchema, KeyListSchema
from services.survey.keys.use_cases import create_key, revoke_key
from services.survey.web import services
from shared.keys import require
from shared.paging import PageArgsSchema, paged, window
from shared.web import Blueprint

blp = Blueprint("keys", __name__, url_prefix="/api/v1", description="API keys (admin)")


@blp.route("/keys", methods=["POST"])
@require("admin")
@blp.arguments(KeyCreateSchema)
@blp.response(201, KeyCreatedSchema)
def create(body):
    """Create a key, optionally expiring at `expires_at`; the key itself is shown only in this answer."""
    record, key = create_key(services(), body["role"], body["name"], body.get("department"), body["expires_at"],
                             actor=g.api_key)
    return {"id": record["_id"], "role": record["role"], "name": record["name"], "department": record["department"],
            "key": key, "expires_at": record["expires_at"]}


@blp.route("/keys", methods=["GET"])
@require("admin")
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, KeyListSchema)
def list_(query):
    """The stored keys, newest first, a page at a time: who holds each, when it was last used, whether it still
    works."""
    skip, limit = window(query)
    keys = services().keys
    return paged("keys", [{**doc, "id": doc["_id"], "revoked": bool(doc.get("revoked_at"))}
                          for doc in keys.listed(skip, limit)], keys.count(), query)


@blp.route("/keys/<key_id>", methods=["DELETE"])
@require("admin")
@blp.response(204)
@blp.alt_response(404, description="no such key")
def revoke(key_id):
    """Revoke a key: refused everywhere within 5 s; its dashboard sessions end."""
    revoke_key(services(), key_id, actor=g.api_key)
    return None
