from flask_smorest import Blueprint, abort

from services.survey.keys.store import create_key
from services.survey.schemas import KeyCreatedSchema, KeyCreateSchema
from services.survey.web import services
from shared.keys import require

blp = Blueprint("keys", __name__, url_prefix="/api/v1", description="API keys (admin)")


@blp.route("/keys", methods=["POST"])
@require("admin")
@blp.arguments(KeyCreateSchema)
@blp.response(201, KeyCreatedSchema)
def create(body):
    """Create a key; the key itself is shown only in this answer."""
    return issue(body)


def issue(body):
    """A new key for a checked KeyCreateSchema body: its record and the key itself, which is never stored."""
    store = services().store
    if body["role"] == "department" and not store.departments.find_one({"_id": body["department"]}):
        abort(400, message="unknown department", errors={"department": ["unknown department code"]})
    doc, key = create_key(store, body["role"], body["name"], body.get("department"))
    return {"id": doc["_id"], "role": doc["role"], "name": doc["name"], "department": doc["department"],
            "key": key}
