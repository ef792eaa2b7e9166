"""申诉复核 and 可疑评价 (issue 16) in the console: the administrator's queues of appeals and flags; a department's
own appeals, filed from a 差评 demand's page.

Every list reads through the API's own store queries and shapes (appeals/api.appeal_out, which hides an
anonymous enterprise from a department; flags/use_cases.list_flags) after the API's query schemas have checked
the filters; filing and deciding are the API's use cases (appeals/use_cases.file, .decide), after its body
schemas, so the console can do nothing `POST /api/v1/appeals` and `…/decide` would refuse.
"""
from flask import abort, g, redirect, request, url_for
from marshmallow import ValidationError

from services.survey.appeals import use_cases as appeals
from services.survey.appeals.api import appeal_out
from services.survey.appeals.rules import STATUS_ZH, appeal_deadline
from services.survey.appeals.schemas import AppealCreateSchema, AppealQuerySchema, DecisionSchema
from services.survey.console.demands import departments
from services.survey.console.responses import comment_periods
from services.survey.console.web import attempt, for_roles, page, render
from services.survey.flags.schemas import FlagQuerySchema
from services.survey.flags.use_cases import list_flags
from services.survey.web import services
from shared.domain import BAD_RATING, utcnow
from shared.errors import Forbidden, NotFound, Refused
from shared.paging import window

PER_PAGE = 30
KIND_NAMES = {"speeder": "答题过快", "straight_line": "评价全部相同", "burst": "同一来源集中提交",
              "cadre_same": "干部走访评价雷同", "cadre_travel": "走访间隔过短", "wave": "差评集中出现"}


def listing_args(schema, allowed):
    """The query string's filters this page knows, loaded by the API's schema: (query, refusal)."""
    args = {k: v for k, v in request.args.items() if k in allowed and v != ""}
    try:
        return schema().load({**args, "per_page": PER_PAGE}), None
    except ValidationError as invalid:
        return schema().load({"per_page": PER_PAGE}), {"message": "筛选条件有误", "errors": invalid.messages}


def pages_of(total):
    return max((total + PER_PAGE - 1) // PER_PAGE, 1)


@page.get("/appeals")
@for_roles("admin", "department")
def appeal_list():
    """Admin: every appeal (pending first by default); department: its own, as GET /api/v1/appeals lists them."""
    own = g.key["role"] == "department"
    query, refused = listing_args(AppealQuerySchema, ("page", "status", "period") if own else
                                  ("page", "status", "department", "period"))
    if not own and "status" not in request.args:
        query["status"] = "pending"  # the administrator's work: what waits for a decision
    criteria = {k: query[k] for k in ("status", "department", "period")}
    if own:
        criteria["department"] = g.key["department"]
    svc = services()
    listed, total = svc.appeals.page(criteria, *window(query))
    shown = [appeal_out(a, svc.demands.get(a["demand"]), g.key) for a in listed]
    return render("appeals.html", appeals=shown, total=total, page_no=query["page"], pages=pages_of(total),
                  status=query["status"], filters=request.args, own=own, departments=departments(),
                  status_names_appeal=STATUS_ZH, refused=refused), 400 if refused else 200


def appeal_or_404(appeal_id):
    try:
        appeal, demand = appeals.read(services(), appeal_id, g.key)
    except (NotFound, Forbidden):
        abort(404)  # another department's appeal is as good as absent
    return appeal_out(appeal, demand, g.key)


@page.get("/appeals/<appeal_id>")
@for_roles("admin", "department")
def appeal(appeal_id, refused=None, status=200):
    shown = appeal_or_404(appeal_id)
    code = (shown.get("rating") or {}).get("enterprise")  # only where the key may see it (appeal_out)
    rater = (services().enterprises.get(code) or {"code": code}) if code else None
    return render("appeal.html", appeal=shown, rater=rater, departments=departments(),
                  status_names_appeal=STATUS_ZH, refused=refused, form=request.form,
                  done=request.args.get("done")), status


@page.post("/appeals/<appeal_id>/decide")
@for_roles("admin")
def appeal_decide(appeal_id):
    body = {k: v.strip() for k, v in request.form.items() if k in ("decision", "note") and v.strip()}
    try:
        body = DecisionSchema().load(body)
    except ValidationError as invalid:
        return appeal(appeal_id, refused={"message": "未保存", "errors": invalid.messages}, status=400)
    _, refusal = attempt(appeals.decide, services(), g.key, appeal_id, body["decision"], body.get("note"))
    if refusal:  # decided meanwhile (409), …
        return appeal(appeal_id, refused=refusal, status=refusal["status"])
    return redirect(url_for("console.appeal", appeal_id=appeal_id, done=body["decision"]), 303)


def appeal_of_demand(demand):
    """What a 差评 demand's page shows about appealing it: the appeal filed, or until when one may be."""
    if demand.get("category") != BAD_RATING:
        return None
    filed = services().appeals.of_demand(demand["_id"])
    deadline = appeal_deadline(demand["received_at"], services().config.appeal_workdays)
    return {"filed": filed, "deadline": deadline, "open": filed is None and utcnow() <= deadline}


@page.post("/demands/<demand_id>/appeal")
@for_roles("department")
def appeal_file(demand_id):
    from services.survey.console.demands import demand as demand_page  # the page the form is on
    body = {"demand": demand_id, "reason": request.form.get("reason", "").strip()}
    try:
        body = AppealCreateSchema().load(body)
    except ValidationError as invalid:
        return demand_page(demand_id, errors={"appeal": invalid.messages}, status=400)
    try:
        filed = appeals.file(services(), g.key, body["demand"], body["reason"])
    except (NotFound, Forbidden):
        abort(404)  # another department's 差评 is as good as absent
    except Refused as refused:  # not a 差评 (400), appealed already or the window closed (409)
        return demand_page(demand_id, errors={"appeal": refused.errors or {"status": [refused.message]}},
                           status=refused.code)
    return redirect(url_for("console.appeal", appeal_id=filed["_id"], done="filed"), 303)


@page.get("/flags")
@for_roles("admin")
def flags():
    """Suspicious-rating flags, newest first, as GET /api/v1/flags lists them; they exclude nothing by themselves."""
    query, refused = listing_args(FlagQuerySchema, ("page", "kind", "department", "period"))
    listed, total = list_flags(services(), query, *window(query))
    return render("flags.html", flags=listed, total=total, page_no=query["page"], pages=pages_of(total),
                  filters=request.args, departments=departments(), kind_names=KIND_NAMES,
                  periods=comment_periods(), refused=refused), 400 if refused else 200
