"""`GET /api/v1/demands/stats?period=P`: demand figures per department (DESIGN §6), never per enterprise,
and the report's 诉求办理 sheet built from the same figures.

Fed by `demand.updated` events through the scoring worker (`manyi_scores.demands`, the newest state of
each demand); the gateway never reads the survey service's database for them (gateway/figures.py).
"""
from marshmallow import Schema, fields

from gateway.api import reading
from gateway.reports import COUNT, INDEX, RATE, SUPPRESSED, Sheet
from gateway.schemas import PeriodQuerySchema, ReleaseMarkSchema
from shared.keys import require
from shared.web import Blueprint

blp = Blueprint("demand_stats", __name__, url_prefix="/api/v1", description="Demand figures (portal, admin)")


class DepartmentDemandFiguresSchema(Schema):
    code = fields.String()
    received = fields.Integer(allow_none=True, metadata={
        "description": "in a release, every figure of a department is null when its demands come from fewer than "
                       "MANYI_MIN_N enterprises (then `suppressed` is true)"})
    assigned_within_1_day = fields.Integer(metadata={"description": "first assigned within 24 h of being received"})
    resolved = fields.Integer(metadata={"description": "resolved at least once"})
    resolved_on_time = fields.Integer(metadata={"description": "first resolution by the deadline then in force"})
    on_time_rate = fields.Float(allow_none=True)
    open = fields.Integer(metadata={"description": "not closed"})
    overdue = fields.Integer(metadata={"description": "open and past the deadline"})
    callback_n = fields.Integer()
    callback_index = fields.Float(allow_none=True,
                                  metadata={"description": "mean linear points of the latest callbacks"})
    suppressed = fields.Boolean(metadata={"description": "callback index withheld: fewer than MANYI_MIN_N callbacks; "
                                                         "in a release also: every figure withheld (see received)"})


class DemandStatsSchema(ReleaseMarkSchema):
    period = fields.String()
    departments = fields.List(fields.Nested(DepartmentDemandFiguresSchema))


@blp.route("/demands/stats", methods=["GET"])
@require("portal", "admin")
@blp.arguments(PeriodQuerySchema, location="query")
@blp.response(200, DemandStatsSchema)
def stats(query):
    """Per department: received, assigned within 1 day, resolved (on time), open, overdue, callback index."""
    figs, mark = reading(query["period"], query["release"])
    return {"period": query["period"], **mark, "departments": figs.demands(query["period"])}


def demand_sheet(figs, period):
    """The report's 诉求办理 sheet: one row per department as the stats endpoint serves it; overdue rows marked."""
    names = {e["code"]: e["name"] for e in figs.period(period)["departments"]}
    rows, marked = [], []
    for d in figs.demands(period):
        if d["overdue"]:
            marked.append(len(rows))
        rows.append([d["code"], names.get(d["code"], d["code"]), d["received"], d["assigned_within_1_day"],
                     d["resolved"], d["resolved_on_time"], d["on_time_rate"], d["open"], d["overdue"], d["callback_n"],
                     d["callback_index"], SUPPRESSED if d["suppressed"] else None])
    columns = [("单位代码", None), ("单位名称", None), ("受理诉求", COUNT), ("1日内交办", COUNT), ("已办结", COUNT),
               ("按时办结", COUNT), ("按时办结率", RATE), ("未结案", COUNT), ("超期未结案", COUNT), ("回访数", COUNT),
               ("回访满意度指数", INDEX), ("说明", None)]
    return Sheet("诉求办理", columns, rows, tuple(marked))
