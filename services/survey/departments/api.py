from flask_smorest import Blueprint, abort
from pymongo.errors import DuplicateKeyError

from services.survey.schemas import DepartmentListSchema, DepartmentSchema
from services.survey.web import services
from shared import messages
from shared.domain import utcnow
from shared.keys import require

blp = Blueprint("departments", __name__, url_prefix="/api/v1", description="Departments (责任单位)")


@blp.route("/departments", methods=["POST"])
@require("admin")
@blp.arguments(DepartmentSchema)
@blp.response(201, DepartmentSchema)
def create(body):
    """Create a department; 409 if the code exists."""
    svc = services()
    try:
        svc.store.departments.insert_one({"_id": body["code"], "name": body["name"], "created_at": utcnow()})
    except DuplicateKeyError:
        abort(409, message=f"department {body['code']} exists", errors={"code": ["already exists"]})
    # Scoring learns of departments through events, so the gateway lists them before any rating.
    svc.outbox.add(messages.DEPARTMENT_CHANGED, messages.envelope(messages.DEPARTMENT_CHANGED, body))
    return body


@blp.route("/departments", methods=["GET"])
@require("admin", "cadre", "department", "portal")
@blp.response(200, DepartmentListSchema)
def list_():
    """All departments, by code."""
    docs = services().store.departments.find({}).sort("_id", 1)
    return {"departments": [{"code": d["_id"], "name": d["name"]} for d in docs]}
