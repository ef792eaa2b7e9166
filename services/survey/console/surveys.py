"""问卷 and 邀请: surveys from an XLSForm or a copy of last quarter's, a phone preview, open and close;
invitations for all or a filtered set, the printable sheets, progress and the non-respondents.

Every action is the JSON API's own use case (surveys/api.py, surveys/xlsform_api.py); refusals are
shown with the API's message and errors.
"""
from flask import abort, redirect, request, url_for
from marshmallow import ValidationError

from services.survey.answers.page import questionnaire
from services.survey.console.web import attempt, for_roles, page, render
from services.survey.invitations import tracking
from services.survey.invitations.use_cases import invitation_rows, invite
from services.survey.surveys.schemas import SurveyDefinitionSchema
from services.survey.surveys.store import DEFINITION_FIELDS
from services.survey.surveys.use_cases import close_survey, create_survey, import_xlsform, open_survey
from services.survey.web import services
from shared.domain import PERIOD_RE, SEGMENT_ATTRIBUTES, period_of, utcnow

PREVIEW_ENTERPRISE = {"name": "示例企业有限公司"}
QUARTER_NAMES = "一二三四"


def next_period(period):
    year, quarter = int(period[:4]), int(period[-1])
    return f"{year + quarter // 4}Q{quarter % 4 + 1}"


def renamed(text, old, new):
    """A code or title of one quarter, renamed for another: 2026Q3 → 2026Q4, 2026年第三季度 → 2026年第四季度."""
    o, n = PERIOD_RE.match(old), PERIOD_RE.match(new)
    text = text.replace(old, new)
    return text.replace(f"{o[1]}年第{QUARTER_NAMES[int(o[2]) - 1]}季度", f"{n[1]}年第{QUARTER_NAMES[int(n[2]) - 1]}季度")


@page.get("/surveys")
@for_roles("admin")
def surveys(refused=None, status=200):
    listed = sorted(services().surveys.all(), key=lambda d: (d["period"], d["created_at"]), reverse=True)
    latest = listed[0] if listed else None
    copy = None
    if latest:
        period = max(next_period(latest["period"]), period_of(utcnow()))
        copy = {"source": latest["_id"], "period": period, "code": renamed(latest["code"], latest["period"], period),
                "title": renamed(latest["title"], latest["period"], period)}
    return render("surveys.html", surveys=listed, refused=refused, copy=request.form if refused else copy), status


@page.post("/surveys/import")
@for_roles("admin")
def survey_import():
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return surveys(refused={"message": "请选择 XLSForm 文件", "errors": {}}, status=400)
    created, refusal = attempt(import_xlsform, services(), upload.read())  # as POST …/surveys/import
    if refusal:
        return surveys(refused={**refusal, "filename": upload.filename}, status=400)
    return redirect(url_for("console.survey", survey_id=created["id"], done="imported"), 303)


@page.post("/surveys/copy")
@for_roles("admin")
def survey_copy():
    source = services().surveys.get(request.form.get("source", ""))
    if source is None:
        abort(404)
    definition = {**{k: source[k] for k in DEFINITION_FIELDS if source.get(k) is not None},
                  **{k: request.form.get(k, "").strip() for k in ("code", "title", "period")}}
    try:
        body = SurveyDefinitionSchema().load(definition)
    except ValidationError as invalid:
        return surveys(refused={"message": "复制失败", "errors": invalid.messages}, status=400)
    created, refusal = attempt(create_survey, services(), body)  # as POST /api/v1/surveys
    if refusal:
        return surveys(refused=refusal, status=refusal["status"])
    return redirect(url_for("console.survey", survey_id=created["id"], done="copied"), 303)


def survey_or_404(survey_id):
    doc = services().surveys.get(survey_id)
    if doc is None:
        abort(404)
    return doc


def progress_of(survey_id):
    return tracking.progress(survey_id, invitation_rows(services(), survey_id))  # as GET …/progress


@page.get("/surveys/<survey_id>")
@for_roles("admin")
def survey(survey_id, refused=None, status=200):
    doc = survey_or_404(survey_id)
    register = services().enterprises
    townships = register.values("township")
    segment_values = {a: register.values(a) for a in SEGMENT_ATTRIBUTES if a != "township"}
    return render("survey.html", survey=doc, progress=progress_of(survey_id), townships=townships,
                  segment_values=segment_values, refused=refused, done=request.args.get("done"),
                  invited_n=request.args.get("invited")), status


@page.get("/surveys/<survey_id>/progress")
@for_roles("admin")
def survey_progress(survey_id):
    """The progress figures alone: the survey page refreshes them in place (htmx) while answers come in."""
    doc = survey_or_404(survey_id)
    return render("_progress.html", survey=doc, progress=progress_of(survey_id))


@page.get("/surveys/<survey_id>/preview")
@for_roles("admin")
def survey_preview(survey_id):
    """The respondent's own page for this survey, as a phone shows it (framed by the survey page)."""
    body, status = questionnaire("preview", survey_or_404(survey_id), PREVIEW_ENTERPRISE, preview=True)
    return body, status


@page.post("/surveys/<survey_id>/<transition>")
@for_roles("admin")
def survey_transition(survey_id, transition):
    if transition not in ("open", "close"):
        abort(404)
    _, refusal = attempt(open_survey if transition == "open" else close_survey, services(), survey_id)
    if refusal:
        return survey(survey_id, refused=refusal, status=refusal["status"])
    return redirect(url_for("console.survey", survey_id=survey_id, done=transition), 303)


def chosen_enterprises(survey_id, form):
    """The codes the invitation form picks: all, or by township / segment, optionally only the uninvited."""
    found = {}
    if form.get("scope") == "filtered":
        if form.get("township"):
            found["township"] = form["township"]
        segment, _, value = form.get("segment", "").partition("=")
        if segment in SEGMENT_ATTRIBUTES and value:
            found[segment] = value
    codes = services().enterprises.codes_where(found)
    if form.get("uninvited"):
        invited = {i["enterprise"] for i in services().invitations.for_survey(survey_id)}
        codes = [c for c in codes if c not in invited]
    return codes


@page.post("/surveys/<survey_id>/invite")
@for_roles("admin")
def survey_invite(survey_id):
    survey_or_404(survey_id)
    codes = chosen_enterprises(survey_id, request.form)
    if not codes:
        return survey(survey_id, refused={"message": "没有符合条件的企业，未发出邀请。", "errors": {}}, status=400)
    issued, refusal = attempt(invite, services(), survey_id, codes)  # as POST …/invitations
    if refusal:
        return survey(survey_id, refused=refusal, status=refusal["status"])
    return redirect(url_for("console.survey", survey_id=survey_id, done="invited", invited=len(issued)), 303)


@page.app_template_global("segment_options")
def segment_options(values):
    return [(f"{a}={v}", a, v) for a, vs in values.items() for v in vs]

