"""How a department's index moves from quarter to quarter, and the county's NPS."""

from gateway.api import READERS, figures, is_live, reading, serialized, services
from gateway.schemas import NpsSchema, PeriodQuerySchema, TrendPointSchema, TrendQuerySchema
from shared.errors import NotFound, pair
from shared.keys import require
from shared.web import Blueprint

blp = Blueprint("trends", __name__, url_prefix="/api/v1", description="Trends and NPS (portal, admin)")


@blp.route("/departments/<code>/trend", methods=["GET"])
@require(*READERS)
@blp.arguments(TrendQuerySchema, location="query")
@blp.response(200, TrendPointSchema(many=True))
def department_trend(query, code):
    """Every quarter from `from` to `to` (empty ones with n 0), each with its change from the quarter
    before and whether that change is significant (Welch 95% interval excluding 0)."""
    figs = figures() if is_live() else services().releases.view()  # a portal: each quarter's latest release
    if not figs.knows(code):
        raise NotFound(f"no department {code}", {"code": pair("没有此部门", "unknown department")})
    return figs.trend(code, query["from_"], query["to"])


@blp.route("/nps", methods=["GET"])
@require(*READERS)
@blp.arguments(PeriodQuerySchema, location="query")
@blp.response(200, NpsSchema)
def nps(query):
    """Net Promoter Score of a period: 100 × (promoters 9–10 − detractors 0–6) / enterprises."""
    figs, mark = reading(query["period"], query["release"])
    return serialized(figs.figures(query["period"]), NpsSchema, lambda: {**figs.nps(query["period"]), **mark})
