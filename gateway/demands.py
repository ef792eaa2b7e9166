"""`GET /api/v1/demands/stats?period=P`: demand figures per department (DESIGN §6), never per enterprise.

Fed by `demand.updated` events through the scoring worker (`manyi_scores.demands`, the newest state of
each demand); the gateway never reads the survey service's database for them. Computed per request:
`overdue` depends on the clock, and a county's demands in a quarter are few.
"""
from flask import current_app
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from gateway.schemas import PeriodQuerySchema
from shared.demand_figures import demand_stats
from shared.domain import utcnow
from shared.keys import require

blp = Blueprint("demand_stats", __name__, url_prefix="/api/v1", description="Demand figures (portal, admin)")


class DepartmentDemandFiguresSchema(Schema):
    code = fields.String()
    received = fields.Integer()
    assigned_within_1_day = fields.Integer(metadata={"description": "first assigned within 24 h of being received"})
    resolved = fields.Integer(metadata={"description": "resolved at least once"})
    resolved_on_time = fields.Integer(metadata={"description": "first resolution by the deadline then in force"})
    on_time_rate = fields.Float(allow_none=True)
    open = fields.Integer(metadata={"description": "not closed"})
    overdue = fields.Integer(metadata={"description": "open and past the deadline"})
    callback_n = fields.Integer()
    callback_index = fields.Float(allow_none=True,
                                  metadata={"description": "mean linear points of the latest callbacks"})
    suppressed = fields.Boolean(metadata={"description": "callback index withheld: fewer than MANYI_MIN_N callbacks"})


class DemandStatsSchema(Schema):
    period = fields.String()
    departments = fields.List(fields.Nested(DepartmentDemandFiguresSchema))


@blp.route("/demands/stats", methods=["GET"])
@require("portal", "admin")
@blp.arguments(PeriodQuerySchema, location="query")
@blp.response(200, DemandStatsSchema)
def stats(query):
    """Per department: received, assigned within 1 day, resolved (on time), open, overdue, callback index."""
    services = current_app.extensions["manyi"]
    db = services.figures.db
    demands = list(db.demands.find({"period": query["period"]}, {"_id": 0}))
    departments = [d["_id"] for d in db.departments.find({}, {"_id": 1})]
    return {"period": query["period"],
            "departments": demand_stats(demands, departments, utcnow(), services.config.min_n)}
