from services.survey.keys.schemas import KeyCreatedSchema, KeyCreateSchema
from services.survey.keys.use_cases import create_key
from services.survey.web import services
from shared.keys import require
from shared.web import Blueprint

blp = Blueprint("keys", __name__, url_prefix="/api/v1", description="API keys (admin)")


@blp.route("/keys", methods=["POST"])
@require("admin")
@blp.arguments(KeyCreateSchema)
@blp.response(201, KeyCreatedSchema)
def create(body):
    """Create a key; the key itself is shown only in this answer."""
    record, key = create_key(services(), body["role"], body["name"], body.get("department"))
    return {"id": record["_id"], "role": record["role"], "name": record["name"], "department": record["department"],
            "key": key}
