"""发布 (通报): the administrator looks at a period's figures on the dashboard, then releases them to portals.

The release is the same use case as `POST /api/v1/periods/{P}/release`; the list shows, for each quarter the
county has surveyed (and its year), the latest release.
"""
from flask import g, redirect, request, url_for

from services.survey.console.web import attempt, for_roles, page, render
from services.survey.releases import use_cases
from services.survey.web import services
from shared.domain import is_read_period, period_key


def periods():
    """The quarters of the county's surveys and their years, newest first, each with its latest release."""
    quarters = {s["period"] for s in services().surveys.all() if s.get("period")}
    candidates = quarters | {q[:4] for q in quarters}
    latest = services().releases.latest_of_each()
    return [{"period": p, "latest": latest.get(p)} for p in sorted(candidates | set(latest), key=period_key,
                                                                   reverse=True)]


@page.get("/releases")
@for_roles("admin")
def releases(refused=None, status=200):
    return render("releases.html", periods=periods(), refused=refused, done=request.args.get("done")), status


@page.post("/releases/<period>")
@for_roles("admin")
def release(period):
    if not is_read_period(period):
        return releases(refused={"message": "季度或年度格式不正确", "errors": {}}, status=400)
    record, refusal = attempt(use_cases.release, services(), period, g.key)  # as POST /api/v1/periods/{P}/release
    if refusal:
        return releases(refused=refusal, status=refusal["status"])
    return redirect(url_for("console.releases", done=f"{period} 第 {record['release']} 次"), 303)
