"""本单位评价: a department's own figures as the portals read them, and its 差评 demands of the period.

The figures are the gateway's. A release (通报) is a frozen copy of the scoring worker's aggregates in the
scores database, and gateway/releases.py turns it into figures with complementary suppression
(shared/disclosure.py); the console reads the same release through the same classes, read-only (as the gateway
reads the survey database's keys). So a department sees its own row of exactly what portals see: nothing of a
period before its release, never the live figures, no breakdown the disclosure rules hide.
"""
from flask import current_app, g, request

from gateway.releases import Releases
from services.survey.console.demands import departments
from services.survey.console.web import for_roles, page, render
from services.survey.web import services
from shared import mongo
from shared.domain import period_of, utcnow

BAD_RATINGS = "bad_rating"


def released():
    """The released figures, one reader per process (a release never changes, so its figures are cached)."""
    if "manyi.console_releases" not in current_app.extensions:
        config = services().config
        current_app.extensions["manyi.console_releases"] = Releases(config, mongo.client(config.mongo_url))
    return current_app.extensions["manyi.console_releases"]


def bad_rating_counts(department, period):
    """The department's 差评整改 demands of the period: raised, not yet closed, overdue (from the ledger)."""
    ledger, now = services().demands, utcnow()
    criteria = {"department": department, "category": BAD_RATINGS, "period": period, "status": None}
    count = {name: ledger.page({**criteria, "overdue": overdue}, now, [("_id", 1)], 0, 1)[1]
             for name, overdue in (("raised", None), ("overdue", True))}
    count["closed"] = ledger.page({**criteria, "status": "closed", "overdue": None}, now, [("_id", 1)], 0, 1)[1]
    return count


@page.get("/figures")
@for_roles("department")
def figures():
    code = g.key["department"]
    view = released()
    periods = view.latest.periods()[::-1]  # released periods, newest first
    period = request.args.get("period") if request.args.get("period") in periods else next(iter(periods), None)
    entry = ranked = release = None
    if period is not None:
        figs = view.view(period)
        release = figs.release_of(period)
        period_figures = figs.figures(period)
        entry = period_figures.department(code)
        ranked = sum(1 for d in period_figures.departments if d.get("rank") is not None)
    return render("figures.html", periods=periods, period=period, entry=entry, ranked=ranked, release=release,
                  indicator_names=view.latest.indicator_names(code),
                  department=departments().get(code, code), code=code,
                  bad_period=period or period_of(utcnow()), bad=bad_rating_counts(code, period or period_of(utcnow())))
