"""Appeals (申诉复核): a department appeals a 差评 given to it; the administrator upholds or rejects it.

`POST /api/v1/appeals` (department key, its own 差评, within MANYI_APPEAL_WORKDAYS working days, once per
rating), `GET /api/v1/appeals` (admin: all; department: its own), `GET /api/v1/appeals/{id}`,
`POST /api/v1/appeals/{id}/decide` (admin, pending only). An anonymous 差评's enterprise never shows.
"""
from flask import g

from services.survey.appeals import rules, use_cases
from services.survey.appeals.schemas import (
    AppealCreateSchema,
    AppealListSchema,
    AppealQuerySchema,
    AppealSchema,
    DecisionSchema,
)
from services.survey.web import services
from shared.errors import Forbidden, pair
from shared.keys import require
from shared.paging import paged, window
from shared.web import Blueprint

blp = Blueprint("appeals", __name__, url_prefix="/api/v1", description="Appeals of 差评 (申诉复核)")


def appeal_out(appeal, demand, key):
    seen = rules.as_seen_by(key, appeal, demand)
    received = demand["received_at"] if demand else appeal["filed_at"]
    return {**seen, "deadline": rules.appeal_deadline(received, services().config.appeal_workdays)}


@blp.route("/appeals", methods=["POST"])
@require("department", "admin")  # the body is checked first (400); then only the rated department may appeal (403)
@blp.arguments(AppealCreateSchema)
@blp.response(201, AppealSchema)
@blp.alt_response(409, description="the 差评 was appealed already, or the appeal window closed")
def file(body):
    """Appeal a 差评 given to your department, named by its `bad_rating` demand, with the reason."""
    svc = services()
    appeal = use_cases.file(svc, g.api_key, body["demand"], body["reason"])
    return appeal_out(appeal, svc.demands.get(appeal["demand"]), g.api_key)


@blp.route("/appeals", methods=["GET"])
@require("admin", "department")
@blp.arguments(AppealQuerySchema, location="query")
@blp.response(200, AppealListSchema)
def list_(query):
    """Appeals, newest first, filtered by status, department and period; a department key sees its own."""
    key, svc = g.api_key, services()
    criteria = {k: query[k] for k in ("status", "department", "period")}
    if key["role"] == "department":
        if criteria["department"] not in (None, key["department"]):
            raise Forbidden("a department key sees only its own department's appeals",
                            {"department": pair("只能查看本单位的申诉", "only your own department")})
        criteria["department"] = key["department"]
    appeals, total = svc.appeals.page(criteria, *window(query))
    demands = svc.demands.of_ids({a["demand"] for a in appeals})
    return paged("appeals", [appeal_out(a, demands.get(a["demand"]), key) for a in appeals], total, query)


@blp.route("/appeals/<appeal_id>", methods=["GET"])
@require("admin", "department")
@blp.response(200, AppealSchema)
def get(appeal_id):
    appeal, demand = use_cases.read(services(), appeal_id, g.api_key)
    return appeal_out(appeal, demand, g.api_key)


@blp.route("/appeals/<appeal_id>/decide", methods=["POST"])
@require("admin")
@blp.arguments(DecisionSchema)
@blp.response(200, AppealSchema)
@blp.alt_response(409, description="the appeal was decided already")
def decide(body, appeal_id):
    """Uphold (the rating is excluded, the 差评 demand closes as 申诉成立) or reject (nothing changes)."""
    appeal, demand = use_cases.decide(services(), g.api_key, appeal_id, body["decision"], body["note"])
    return appeal_out(appeal, demand, g.api_key)
