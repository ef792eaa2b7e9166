from flask_smorest import Blueprint, abort

from services.survey.api import services
from shared.keys import require
from services.survey.schemas import EnterpriseListSchema, EnterpriseSchema
from shared.domain import utcnow

blp = Blueprint("enterprises", __name__, url_prefix="/api/v1", description="Enterprises (企业)")


def enterprise_out(doc):
    return {k: doc[k] for k in ("name", "scale", "ownership", "capital", "township", "industry")} | {"code": doc["_id"]}


@blp.route("/enterprises", methods=["POST"])
@require("admin")
@blp.arguments(EnterpriseSchema)
@blp.response(201, EnterpriseSchema)
@blp.alt_response(200, schema=EnterpriseSchema, description="the enterprise existed and was updated")
def upsert(body):
    """Create an enterprise, or update it when its 统一社会信用代码 exists (201 created, 200 updated)."""
    fields = {k: v for k, v in body.items() if k != "code"}
    result = services().store.enterprises.update_one(
        {"_id": body["code"]}, {"$set": {**fields, "updated_at": utcnow()}}, upsert=True)
    return body, 201 if result.upserted_id is not None else 200


@blp.route("/enterprises", methods=["GET"])
@require("admin", "cadre")
@blp.response(200, EnterpriseListSchema)
def list_():
    """All enterprises, by code."""
    return {"enterprises": [enterprise_out(d) for d in services().store.enterprises.find({}).sort("_id", 1)]}


@blp.route("/enterprises/<code>", methods=["GET"])
@require("admin", "cadre")
@blp.response(200, EnterpriseSchema)
def get(code):
    doc = services().store.enterprises.find_one({"_id": code})
    if doc is None:
        abort(404, message=f"no enterprise {code}")
    return enterprise_out(doc)
