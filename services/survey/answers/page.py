"""The respondent's page `/s/{token}`: what an enterprise sees when it opens its link or scans its QR code.

`GET` renders the whole questionnaire as a plain HTML form; static/survey.js adds live skip logic and
sends JSON to `POST /api/v1/responses`. Without scripts the browser posts the form to `POST /s/{token}`,
which goes through the same `answers.accept`.
"""
from flask import Blueprint, make_response, render_template, request, url_for
from werkzeug.datastructures import MultiDict

from services.survey.answers.accept import accept, response_id_of
from services.survey.answers.form_post import answers_from_form, condition_text, contact_ok_from_form, reasons_from_form
from services.survey.flags.use_cases import DEVICE_COOKIE, DEVICE_COOKIE_DAYS, client_hash, device_hash, new_device_id
from services.survey.web import services
from shared.domain import LEVEL_NAMES, local_time, utcnow
from shared.errors import Refused

page = Blueprint("respondent", __name__)

UNKNOWN = dict(kind="unknown", badge="?", heading="链接无效",
               text="找不到这个问卷链接。请核对链接是否完整，或联系发放问卷的工作人员。")


def message(status, **fields):
    fields.setdefault("title", fields["heading"])
    return render_template("respondent/message.html", **{"enterprise": None, "survey_title": None, **fields}), status


def load(token):
    """(invitation, survey, enterprise) or (None, None, None) for an unknown token."""
    svc = services()
    invitation = svc.invitations.get(token)
    if invitation is None:
        return None, None, None
    survey = svc.surveys.get(invitation["survey_id"])
    enterprise = svc.enterprises.get(invitation["enterprise"]) or {"name": ""}
    return invitation, survey, enterprise


def unavailable(token, invitation, survey, enterprise):
    """The page for a link that cannot be answered now (used, expired, closed, not yet open), else None."""
    who = dict(enterprise=enterprise.get("name"), survey_title=survey["title"])
    answered = response_id_of(survey["code"], invitation["enterprise"])  # by this link or an earlier one
    if services().responses.exists(answered):
        return message(200, kind="used", badge="✓", heading="您已提交过本问卷",
                       text="感谢参与！每家企业对每份问卷只需填写一次，无需重复提交。", **who)
    if survey["status"] == "closed" or invitation.get("closed"):
        return message(410, kind="closed", badge="!", heading="问卷已结束",
                       text="本次调查已经结束，感谢您的关注。", **who)
    if survey["status"] != "open":
        return message(410, kind="closed", badge="!", heading="问卷尚未开放",
                       text="本次调查还没有开始，请在开放后再打开此链接。", **who)
    if invitation["expires_at"] <= utcnow():
        until = local_time(invitation["expires_at"], "%Y年%m月%d日")
        return message(410, kind="expired", badge="!", heading="链接已过期",
                       text=f"此链接已于 {until} 过期。如仍需填写，请联系发放问卷的工作人员获取新链接。", **who)
    return None


def questionnaire(token, survey, enterprise, values=None, errors=None, form_error=None, status=200, preview=False):
    by_id = {q["id"]: q for q in survey["questions"]}
    numbers = {q["id"]: n for n, q in enumerate(survey["questions"], start=1)}
    questions = [{**q, "condition": condition_text(q, by_id, numbers)} for q in survey["questions"]]
    client = {"token": token, "endpoint": url_for("responses.submit"),
              "questions": [{k: q.get(k) for k in ("id", "type", "required", "show_if", "max_length")}
                            for q in survey["questions"]]}
    return render_template(
        "respondent/survey.html", title=survey["title"], survey=survey, enterprise=enterprise, token=token,
        questions=questions, levels=sorted(LEVEL_NAMES.items(), reverse=True), values=values or MultiDict(),
        errors=errors or {}, form_error=form_error, client_data=client, preview=preview), status


@page.get("/s/<token>")
def respondent_page(token):
    """The questionnaire for this enterprise, or a page saying why the link cannot be answered."""
    invitation, survey, enterprise = load(token)
    if invitation is None:
        return message(404, **UNKNOWN)
    services().invitations.mark_opened(invitation, utcnow())
    response = make_response(unavailable(token, invitation, survey, enterprise) or questionnaire(token, survey, enterprise))
    if DEVICE_COOKIE not in request.cookies:
        response.set_cookie(DEVICE_COOKIE, new_device_id(), max_age=DEVICE_COOKIE_DAYS * 86400, httponly=True,
                            samesite="Lax", secure=request.is_secure)
    return response


@page.post("/s/<token>")
def submit_form(token):
    """The same submission as `POST /api/v1/responses`, from a plain form (browsers without scripts)."""
    invitation, survey, enterprise = load(token)
    if invitation is None:
        return message(404, **UNKNOWN)
    try:
        answers = answers_from_form(survey["questions"], request.form)
        accept(services(), token, answers, contact_ok_from_form(request.form),
               reasons_from_form(survey["questions"], answers, request.form), client_hash(services(), request.remote_addr),
               device_hash(services(), request.cookies))
    except Refused as rejected:
        if rejected.code == 400:
            return questionnaire(token, survey, enterprise, values=request.form, errors=rejected.errors,
                                 form_error="有题目未答或填写有误，请按红字提示修改后再提交。", status=400)
        return unavailable(token, invitation, survey, enterprise) or message(
            rejected.code, kind="error", badge="!", heading="无法提交", text=rejected.message)
    return message(200, kind="thanks", badge="✓", heading="提交成功", title="提交成功",
                   text="感谢您的参与！您的评价将帮助我们改进服务、优化营商环境。",
                   enterprise=enterprise.get("name"), survey_title=survey["title"])
