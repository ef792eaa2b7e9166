"""诉求台账 for the administrator, and the department's work queue (工作台), over the demand ledger.

Every action runs the ledger's own steps (demands/ledger.py) after the API's schemas have checked the
form, so the console can do exactly what the JSON API allows and nothing more.
"""
from datetime import date, datetime, timedelta

from flask import abort, g, redirect, request, url_for
from marshmallow import ValidationError

from services.survey.console.web import for_roles, page, render
from services.survey.demands import ledger, rules
from services.survey.demands.api import held_to_own
from services.survey.demands.schemas import AssignSchema, CallbackSchema, ProgressNoteSchema, ResolveSchema
from services.survey.web import services
from shared.demand_figures import is_overdue
from shared.domain import DEMAND_STATUSES, PERIOD_RE, SHANGHAI, utcnow
from shared.errors import Forbidden, NotFound, Refused

PER_PAGE = 50
FORMS = {"assign": AssignSchema, "progress": ProgressNoteSchema, "resolve": ResolveSchema, "callback": CallbackSchema}
ARGUMENTS = {"assign": ("department", "deadline"), "progress": ("note",), "resolve": ("resolution",),
             "callback": ("level", "comment")}
BY_DEADLINE = [("deadline", 1), ("_id", 1)]


def working_days_left(deadline, now):
    """Working days from today to the deadline's day (0: due today); negative: working days overdue."""
    today, due = now.astimezone(SHANGHAI).date(), deadline.astimezone(SHANGHAI).date()
    step = 1 if due >= today else -1
    count, day = 0, today
    while day != due:
        if rules.is_working_day(day if step < 0 else day + timedelta(days=1)):
            count += step
        day += timedelta(days=step)
    return count


def departments():
    return services().departments.names()


def row(demand, now):
    demand = rules.as_seen_by(g.key, demand)  # as the API lists it (idempotent)
    left = working_days_left(demand["deadline"], now) if demand.get("deadline") else None
    return {**demand, "overdue": is_overdue(demand, now), "days_left": left}


def filters_of(args):
    """The ledger filters of the query string, as the API's list takes them (bad values are dropped)."""
    status = args.get("status") if args.get("status") in DEMAND_STATUSES else None
    overdue = {"yes": True, "no": False}.get(args.get("overdue"))
    period = args.get("period") if PERIOD_RE.match(args.get("period", "")) else None
    return {"department": args.get("department") or None, "status": status, "overdue": overdue,
            "category": args.get("category") or None, "period": period}


@page.get("/demands")
@for_roles("admin")
def demands():
    now, page_no = utcnow(), max(request.args.get("page", 1, type=int) or 1, 1)
    listed, total = services().demands.page(held_to_own(filters_of(request.args), g.key), now, BY_DEADLINE,
                                            (page_no - 1) * PER_PAGE, PER_PAGE)
    return render("demands.html", demands=[row(d, now) for d in listed], total=total, page_no=page_no,
                  pages=max((total + PER_PAGE - 1) // PER_PAGE, 1), filters=request.args, departments=departments(),
                  categories=services().demands.in_use("category"),
                  periods=services().demands.in_use("period")[::-1], statuses=DEMAND_STATUSES)


@page.get("/queue")
@for_roles("department")
def queue():
    """The department's own open demands: overdue first, then by deadline (the earliest is the most urgent)."""
    now = utcnow()
    mine = [row(rules.as_seen_by(g.key, d), now)  # an anonymous 差评 without its enterprise (DESIGN §9)
            for d in services().demands.all(held_to_own({"department": None}, g.key), now, BY_DEADLINE)
            if d["status"] != "closed"]
    far = datetime.max.replace(tzinfo=SHANGHAI)
    mine.sort(key=lambda d: (not d["overdue"], d.get("deadline") or far, d["_id"]))
    to_do = [d for d in mine if d["status"] == "assigned"]
    waiting = [d for d in mine if d["status"] != "assigned"]
    return render("queue.html", to_do=to_do, waiting=waiting, department=departments().get(g.key["department"]))


@page.get("/demands/<demand_id>")
@for_roles("admin", "department", "cadre")
def demand(demand_id, errors=None, status=200):
    try:
        found = rules.as_seen_by(g.key, ledger.read(services(), demand_id, g.key))
    except (NotFound, Forbidden):
        abort(404)  # another department's demand is as good as absent
    from services.survey.console.integrity import appeal_of_demand  # (integrity's pages import this module)
    enterprise = None
    if found.get("enterprise"):
        enterprise = services().enterprises.get(found["enterprise"]) or {"code": found["enterprise"]}
    return render("demand.html", demand=row(found, utcnow()), enterprise=enterprise, departments=departments(),
                  errors=errors or {}, form=request.form, may=lambda action: g.key["role"] in ledger.ACTORS[action],
                  appeal=appeal_of_demand(found),
                  today=date.today().isoformat()), status


def form_body(action, form):
    body = {k: v for k, v in form.items() if k != "csrf" and v != ""}
    if action == "assign" and body.get("deadline"):
        try:  # a date picked in the form is due at the end of that day in the county
            body["deadline"] = rules.end_of_day(date.fromisoformat(body["deadline"])).isoformat()
        except ValueError:
            pass  # the schema names the bad value
    if action == "callback" and "level" in body:
        body["level"] = int(body["level"]) if body["level"].isdigit() else body["level"]
    return FORMS[action]().load(body)


@page.post("/demands/<demand_id>/<action>")
@for_roles("admin", "department", "cadre")
def act(demand_id, action):
    if action not in FORMS:
        abort(404)
    try:
        body = form_body(action, request.form)
    except ValidationError as invalid:
        return demand(demand_id, errors={action: invalid.messages}, status=400)
    try:
        getattr(ledger, action)(services(), demand_id, g.key, *[body.get(a) for a in ARGUMENTS[action]])
    except NotFound:
        abort(404)
    except Forbidden:
        abort(404 if g.key["role"] == "department" else 403)
    except Refused as refused:  # unknown department (400), a step the demand's status does not allow (409), …
        return demand(demand_id, errors={action: refused.errors or {"status": [refused.message]}}, status=refused.code)
    return redirect(url_for("console.demand", demand_id=demand_id, done=action), 303)
