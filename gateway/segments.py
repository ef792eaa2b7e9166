"""Segments and the equal-treatment gap: is a department's index the same for state-owned and private,
domestic and foreign, large and small enterprises (DESIGN §5–6)?"""

from gateway.api import READERS, reading, serialized
from gateway.schemas import GapsSchema, SegmentQuerySchema, SegmentsSchema
from shared.errors import NotFound, pair
from shared.keys import require
from shared.web import Blueprint

blp = Blueprint("segments", __name__, url_prefix="/api/v1", description="Segments and equal-treatment gaps (portal, admin)")


@blp.route("/departments/<code>/segments", methods=["GET"])
@require(*READERS)
@blp.arguments(SegmentQuerySchema, location="query")
@blp.response(200, SegmentsSchema)
def department_segments(query, code):
    """A department's index per segment of one attribute, and its gap (highest − lowest, Welch 95%)."""
    figs, mark = reading(query["period"], query["release"])
    result = figs.segments(query["period"], code, query["by"])
    if result is None:
        raise NotFound(f"no department {code}", {"code": pair("没有此部门", "unknown department")})
    return serialized(figs.figures(query["period"]), SegmentsSchema, lambda: {**result, **mark}, code, query["by"])


@blp.route("/segments/gaps", methods=["GET"])
@require(*READERS)
@blp.arguments(SegmentQuerySchema, location="query")
@blp.response(200, GapsSchema)
def gaps(query):
    """Departments ranked by their equal-treatment gap on one attribute, widest first."""
    figs, mark = reading(query["period"], query["release"])
    return serialized(figs.figures(query["period"]), GapsSchema, lambda: {
        "period": query["period"], "by": query["by"], **mark, "departments": figs.gaps(query["period"], query["by"])},
        query["by"])
