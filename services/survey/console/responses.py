"""回答与意见: the administrator browses a survey's raw answers with filters, and reads the comments about a
department in a period; a department reads the comments about itself only.

The filters are checked by the raw-answer API's own query schemas and the pages read through its own
functions (responses/reading.listed, responses/comments.page, api.scoped, identity.py), so the console shows
what `GET /api/v1/surveys/{id}/responses` and `GET /api/v1/departments/{code}/comments` would, and nothing
more. The download links are the API's exports with the same filters (a console session reads the API's GETs).
"""
from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode

from flask import g, request
from marshmallow import ValidationError

from services.survey.console.demands import departments
from services.survey.console.web import for_roles, page, render
from services.survey.responses import comments as found
from services.survey.responses import reading
from services.survey.responses.api import scoped
from services.survey.responses.schemas import CommentQuerySchema, ResponseQuerySchema
from services.survey.web import services
from shared.domain import SHANGHAI, period_key, period_of, utcnow

PER_PAGE = 20
FILTERS = ("department", "township", "scale", "ownership", "capital", "industry", "level", "has_text")


def surveys_of_periods():
    """({period: [surveys, newest first]}, periods newest first)."""
    listed = sorted(services().surveys.all(), key=lambda d: d["created_at"], reverse=True)
    by_period = {}
    for s in listed:
        by_period.setdefault(s["period"], []).append(s)
    return by_period, sorted(by_period, key=period_key, reverse=True)


def day_start(text, days=0):
    """A date typed in the form as the moment its day (+ `days`) begins in the county; None when not a date."""
    try:
        return datetime.combine(date.fromisoformat(text) + timedelta(days=days), time(), SHANGHAI).isoformat()
    except ValueError:
        return None


def answer_query(args):
    """(the API's query string for these filters, the console form's own values); dates become since/until."""
    chosen = {k: args[k] for k in FILTERS if args.get(k)}
    if args.get("from"):
        chosen["since"] = day_start(args["from"]) or args["from"]
    if args.get("to"):
        chosen["until"] = day_start(args["to"], 1) or args["to"]  # the whole of the last day
    return chosen


@page.get("/responses")
@for_roles("admin")
def responses():
    by_period, periods = surveys_of_periods()
    period = request.args.get("period") if request.args.get("period") in by_period else next(iter(periods), None)
    offered = by_period.get(period, [])
    survey = next((s for s in offered if s["_id"] == request.args.get("survey")), next(iter(offered), None))
    chosen = answer_query(request.args)
    items, cursor, refused = [], None, None
    if survey is not None:
        try:
            query = ResponseQuerySchema().load({**chosen, "limit": PER_PAGE, "cursor": request.args.get("cursor")
                                                or None})
        except ValidationError as invalid:
            refused = {"message": "筛选条件有误", "errors": invalid.messages}
        else:
            items, cursor = reading.listed(services().archive, survey, scoped(query, g.key), g.key)
    register = services().enterprises
    here = {k: v for k, v in request.args.items() if k != "cursor" and v}
    return render("responses.html", periods=periods, period=period, surveys=offered, survey=survey, items=items,
                  refused=refused, filters=request.args, departments=departments(),
                  townships=register.values("township"), industries=register.values("industry"),
                  exports=urlencode(chosen), first=urlencode(here), more=urlencode({**here, "cursor": cursor})
                  if cursor else None, paged=bool(request.args.get("cursor"))), 400 if refused else 200


def comment_periods():
    """Periods to read comments of: those of the county's surveys and the current one, newest first."""
    quarters = {s["period"] for s in services().surveys.all() if s.get("period")} | {period_of(utcnow())}
    return sorted(quarters, key=period_key, reverse=True)


@page.get("/comments")
@for_roles("admin", "department")
def comments():
    names = departments()
    own = g.key["role"] == "department"
    code = g.key["department"] if own else (request.args.get("department") or next(iter(names), None))
    periods = comment_periods()
    period = request.args.get("period") or periods[0]
    items, cursor, refused = [], None, None
    if code is not None:
        try:
            query = CommentQuerySchema().load({"period": period, "limit": PER_PAGE,
                                               "cursor": request.args.get("cursor") or None})
        except ValidationError as invalid:
            refused = {"message": "筛选条件有误", "errors": invalid.messages}
        else:  # as the API reads them: a department key gets no enterprise's identity (identity.py)
            items, cursor = found.page(services().archive, g.key, code, query)
    here = {"department": code, "period": period} if not own else {"period": period}
    return render("comments.html", periods=periods, period=period, code=code, departments=names, own=own,
                  items=items, refused=refused, first=urlencode(here),
                  more=urlencode({**here, "cursor": cursor}) if cursor else None,
                  paged=bool(request.args.get("cursor"))), 400 if refused else 200
