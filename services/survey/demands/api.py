"""The demand ledger (问题台账): list, read, assign (交办), progress, resolve (办结), callback (回访), export.

A department key sees and acts only on its own department's demands (403 otherwise); an illegal step
(resolve before assign, callback before resolve, …) is 409 with the reason in Chinese and English.
"""
import io
from datetime import timedelta

from flask import g

from services.survey.demands import ledger, rules
from services.survey.demands.schemas import (
    AssignSchema,
    CallbackSchema,
    DemandListSchema,
    DemandQuerySchema,
    DemandSchema,
    ProgressNoteSchema,
    ResolveSchema,
)
from services.survey.demands.sheet import ledger_workbook
from services.survey.web import services
from shared.demand_figures import is_overdue
from shared.domain import utcnow
from shared.errors import Forbidden, Invalid, pair
from shared.keys import require
from shared.paging import paged
from shared.web import XLSX, Blueprint, download

blp = Blueprint("demands", __name__, url_prefix="/api/v1", description="Demand ledger (诉求台账)")
READERS = ("admin", "cadre", "department")
MAX_TERM = timedelta(days=366)


def demand_out(demand, now, key):
    """A demand as `key` may see it (an anonymous 差评 without its enterprise), with its overdue flag."""
    return {**rules.as_seen_by(key, demand), "overdue": is_overdue(demand, now)}


def held_to_own(query, key):
    """The ledger query a key may make: a department key is held to its own department."""
    if key["role"] == "department":
        if query["department"] not in (None, key["department"]):
            raise Forbidden("a department key sees only its own department's demands",
                            {"department": pair("只能查看本单位的诉求", "only your own department")})
        query = {**query, "department": key["department"]}
    return query


def sort_of(query):
    field = query["sort"].lstrip("-")
    return [(field, -1 if query["sort"].startswith("-") else 1), ("_id", 1)]


@blp.route("/demands", methods=["GET"])
@require(*READERS)
@blp.arguments(DemandQuerySchema, location="query")
@blp.response(200, DemandListSchema)
def list_(query):
    """Demands, filtered by department, status, category and overdue, paged, sorted by deadline."""
    now = utcnow()
    demands, total = services().demands.page(held_to_own(query, g.api_key), now, sort_of(query),
                                             (query["page"] - 1) * query["per_page"], query["per_page"])
    return paged("demands", [demand_out(d, now, g.api_key) for d in demands], total, query)


@blp.route("/demands/ledger.xlsx", methods=["GET"])
@require(*READERS)
@blp.arguments(DemandQuerySchema, location="query")
@blp.response(200, description="问题台账 as an .xlsx workbook: one row per demand with its history; overdue rows red")
def export(query):
    """The ledger (问题台账) as .xlsx, with the same filters as the list (every page)."""
    svc, now = services(), utcnow()
    demands = [demand_out(d, now, g.api_key)
               for d in svc.demands.all(held_to_own(query, g.api_key), now, sort_of(query))]
    enterprises = svc.enterprises.names({d["enterprise"] for d in demands if d.get("enterprise")})
    buffer = io.BytesIO()
    ledger_workbook(demands, svc.departments.names(), enterprises).save(buffer)
    return download(buffer.getvalue(), XLSX, f"问题台账-{now:%Y%m%d}.xlsx", f"ledger-{now:%Y%m%d}.xlsx")


@blp.route("/demands/<demand_id>", methods=["GET"])
@require(*READERS)
@blp.response(200, DemandSchema)
def get(demand_id):
    return demand_out(ledger.read(services(), demand_id, g.api_key), utcnow(), g.api_key)


@blp.route("/demands/<demand_id>/assign", methods=["POST"])
@require("admin")
@blp.arguments(AssignSchema)
@blp.response(200, DemandSchema)
@blp.alt_response(409, description="the demand is resolved or closed")
def assign(body, demand_id):
    """交办 to a department, due by `deadline` or the default term (7 days ordinary, 30 major)."""
    # Within a year of now, either side: a paper ledger entered late may carry a deadline already past
    # (tests/e2e rely on it), but year 1 or 9999 is a typo or a probe. Aware datetimes compare safely.
    now = utcnow()
    if body["deadline"] is not None and not now - MAX_TERM <= body["deadline"] <= now + MAX_TERM:
        raise Invalid("the deadline must be within a year of now",
                      {"deadline": pair("办理时限须在一年之内", "deadline must be within a year of now")})
    return demand_out(ledger.assign(services(), demand_id, g.api_key, body["department"], body["deadline"]), utcnow(),
                      g.api_key)


@blp.route("/demands/<demand_id>/progress", methods=["POST"])
@require("department", "admin")
@blp.arguments(ProgressNoteSchema)
@blp.response(200, DemandSchema)
@blp.alt_response(409, description="the demand is not assigned")
def progress(body, demand_id):
    """A progress note (进展) by the department handling the demand."""
    return demand_out(ledger.progress(services(), demand_id, g.api_key, body["note"]), utcnow(),
                      g.api_key)


@blp.route("/demands/<demand_id>/resolve", methods=["POST"])
@require("department", "admin")
@blp.arguments(ResolveSchema)
@blp.response(200, DemandSchema)
@blp.alt_response(409, description="the demand is not assigned")
def resolve(body, demand_id):
    """办结, by the department's key (or an administrator)."""
    return demand_out(ledger.resolve(services(), demand_id, g.api_key, body["resolution"]), utcnow(),
                      g.api_key)


@blp.route("/demands/<demand_id>/callback", methods=["POST"])
@require("admin", "cadre")
@blp.arguments(CallbackSchema)
@blp.response(200, DemandSchema)
@blp.alt_response(409, description="the demand is not resolved")
def callback(body, demand_id):
    """回访 with the enterprise's level: 3–5 closes the demand (销号), 1–2 reopens it."""
    return demand_out(ledger.callback(services(), demand_id, g.api_key, body["level"], body["comment"]), utcnow(),
                      g.api_key)
