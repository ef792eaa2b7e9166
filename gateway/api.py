"""The gateway's read-only API: indices per department, indicator and period."""
from flask import current_app

from gateway.schemas import DepartmentDetailSchema, IndicesSchema, PeriodQuerySchema, PeriodsSchema
from shared.errors import NotFound, pair
from shared.keys import require
from shared.web import Blueprint

blp = Blueprint("indices", __name__, url_prefix="/api/v1", description="Satisfaction indices (portal, admin)")
READERS = ("portal", "admin")


def figures():
    return current_app.extensions["manyi"].figures


@blp.route("/indices", methods=["GET"])
@require(*READERS)
@blp.arguments(PeriodQuerySchema, location="query")
@blp.response(200, IndicesSchema)
def indices(query):
    """Every department's index in a period, ranked, with 落后单位 flagged."""
    period = query["period"]
    return {"period": period, "min_n": current_app.extensions["manyi"].config.min_n,
            "departments": figures().period(period)["departments"]}


@blp.route("/departments/<code>/index", methods=["GET"])
@require(*READERS)
@blp.arguments(PeriodQuerySchema, location="query")
@blp.response(200, DepartmentDetailSchema)
def department_index(query, code):
    """One department's index with its indicators and channel counts."""
    entry = figures().department(query["period"], code)
    if entry is None:
        raise NotFound(f"no department {code}", {"code": pair("没有此部门", "unknown department")})
    return {"period": query["period"], **entry}


@blp.route("/periods", methods=["GET"])
@require(*READERS)
@blp.response(200, PeriodsSchema)
def periods():
    """Periods that have ratings, oldest first."""
    return {"periods": figures().periods()}
