"""The demand ledger (问题台账): list, read, assign (交办), progress, resolve (办结), callback (回访), export.

A department key sees and acts only on its own department's demands (403 otherwise); an illegal step
(resolve before assign, callback before resolve, …) is 409 with the reason in Chinese and English.
"""
import io

from flask import g, send_file
from flask_smorest import Blueprint, abort

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
from shared.keys import require
from shared.paging import paged
from shared.sheets import content_disposition

blp = Blueprint("demands", __name__, url_prefix="/api/v1", description="Demand ledger (诉求台账)")
READERS = ("admin", "cadre", "department")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def demand_out(demand, now):
    return {**demand, "overdue": is_overdue(demand, now)}


def ledger_filter(query, key, now):
    """The Mongo filter of a ledger query; a department key is held to its own department."""
    if key["role"] == "department":
        if query["department"] not in (None, key["department"]):
            abort(403, message="a department key sees only its own department's demands",
                  errors={"department": ["只能查看本单位的诉求", "only your own department"]})
        query = {**query, "department": key["department"]}
    found = {k: query[k] for k in ("department", "status", "category") if query.get(k) is not None}
    if query.get("overdue") is True:
        found["$and"] = [{"status": {"$ne": "closed"}}, {"deadline": {"$lt": now}}]
    elif query.get("overdue") is False:
        found["$or"] = [{"status": "closed"}, {"deadline": None}, {"deadline": {"$gte": now}}]
    return found


def sort_of(query):
    field = query["sort"].lstrip("-")
    return [(field, -1 if query["sort"].startswith("-") else 1), ("_id", 1)]


@blp.route("/demands", methods=["GET"])
@require(*READERS)
@blp.arguments(DemandQuerySchema, location="query")
@blp.response(200, DemandListSchema)
def list_(query):
    """Demands, filtered by department, status, category and overdue, paged, sorted by deadline."""
    store, now = services().store, utcnow()
    found = ledger_filter(query, g.api_key, now)
    cursor = store.demands.find(found, {"message": 0}).sort(sort_of(query)) \
        .skip((query["page"] - 1) * query["per_page"]).limit(query["per_page"])
    return paged("demands", [demand_out(d, now) for d in cursor], store.demands.count_documents(found), query)


@blp.route("/demands/ledger.xlsx", methods=["GET"])
@require(*READERS)
@blp.arguments(DemandQuerySchema, location="query")
@blp.response(200, description="问题台账 as an .xlsx workbook: one row per demand with its history; overdue rows red")
def export(query):
    """The ledger (问题台账) as .xlsx, with the same filters as the list (every page)."""
    store, now = services().store, utcnow()
    found = ledger_filter(query, g.api_key, now)
    names = {d["_id"]: d["name"] for d in store.departments.find({}, {"name": 1})}
    demands = [demand_out(d, now) for d in store.demands.find(found, {"message": 0}).sort(sort_of(query))]
    enterprises = {e["_id"]: e["name"] for e in store.enterprises.find(
        {"_id": {"$in": list({d["enterprise"] for d in demands if d.get("enterprise")})}}, {"name": 1})}
    buffer = io.BytesIO()
    ledger_workbook(demands, names, enterprises).save(buffer)
    buffer.seek(0)
    response = send_file(buffer, mimetype=XLSX)
    response.headers["Content-Disposition"] = content_disposition(f"问题台账-{now:%Y%m%d}.xlsx", f"ledger-{now:%Y%m%d}.xlsx")
    return response


@blp.route("/demands/<demand_id>", methods=["GET"])
@require(*READERS)
@blp.response(200, DemandSchema)
def get(demand_id):
    demand = services().store.demands.find_one({"_id": demand_id}, {"message": 0})
    if demand is None:
        abort(404, message=f"no demand {demand_id}")
    if not rules.may_see(g.api_key, demand):
        abort(403, message="this demand belongs to another department / 该诉求不属于本单位")
    return demand_out(demand, utcnow())


def act(demand_id, make_change):
    svc = services()
    try:
        demand = ledger.change(svc, demand_id, g.api_key, make_change)
    except ledger.NotFound:
        abort(404, message=f"no demand {demand_id}")
    except ledger.Forbidden:
        abort(403, message="this demand belongs to another department / 该诉求不属于本单位")
    except rules.IllegalTransition as exc:
        abort(409, message=f"{exc.reason[0]} / {exc.reason[1]}", errors={"status": [*exc.reason, exc.status]})
    return demand_out(demand, utcnow())


@blp.route("/demands/<demand_id>/assign", methods=["POST"])
@require("admin")
@blp.arguments(AssignSchema)
@blp.response(200, DemandSchema)
@blp.alt_response(409, description="the demand is resolved or closed")
def assign(body, demand_id):
    """交办 to a department, due by `deadline` or the default term (7 days ordinary, 30 major)."""
    if services().store.departments.find_one({"_id": body["department"]}, {"_id": 1}) is None:
        abort(400, message="unknown department", errors={"department": ["未知部门", "unknown department"]})
    terms, actor = rules.Terms.of(services().config), rules.actor_of(g.api_key)
    return act(demand_id, lambda d: rules.assign(d, body["department"], body["deadline"], utcnow(), actor, terms))


@blp.route("/demands/<demand_id>/progress", methods=["POST"])
@require("department", "admin")
@blp.arguments(ProgressNoteSchema)
@blp.response(200, DemandSchema)
@blp.alt_response(409, description="the demand is not assigned")
def progress(body, demand_id):
    """A progress note (进展) by the department handling the demand."""
    actor = rules.actor_of(g.api_key)
    return act(demand_id, lambda d: rules.progress(d, body["note"], utcnow(), actor))


@blp.route("/demands/<demand_id>/resolve", methods=["POST"])
@require("department", "admin")
@blp.arguments(ResolveSchema)
@blp.response(200, DemandSchema)
@blp.alt_response(409, description="the demand is not assigned")
def resolve(body, demand_id):
    """办结, by the department's key (or an administrator)."""
    actor = rules.actor_of(g.api_key)
    return act(demand_id, lambda d: rules.resolve(d, body["resolution"], utcnow(), actor))


@blp.route("/demands/<demand_id>/callback", methods=["POST"])
@require("admin", "cadre")
@blp.arguments(CallbackSchema)
@blp.response(200, DemandSchema)
@blp.alt_response(409, description="the demand is not resolved")
def callback(body, demand_id):
    """回访 with the enterprise's level: 3–5 closes the demand (销号), 1–2 reopens it."""
    terms, actor = rules.Terms.of(services().config), rules.actor_of(g.api_key)
    return act(demand_id, lambda d: rules.callback(d, body["level"], body["comment"], utcnow(), actor, terms))
