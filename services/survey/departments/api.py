from services.survey.departments.schemas import DepartmentListSchema, DepartmentSchema
from services.survey.departments.use_cases import create_department
from services.survey.web import services
from shared.keys import require
from shared.web import Blueprint

blp = Blueprint("departments", __name__, url_prefix="/api/v1", description="Departments (责任单位)")


@blp.route("/departments", methods=["POST"])
@require("admin")
@blp.arguments(DepartmentSchema)
@blp.response(201, DepartmentSchema)
def create(body):
    """Create a department; 409 if the code exists."""
    return create_department(services(), body["code"], body["name"])


@blp.route("/departments", methods=["GET"])
@require("admin", "cadre", "department", "portal")
@blp.response(200, DepartmentListSchema)
def list_():
    """All departments, by code."""
    return {"departments": services().departments.all()}
