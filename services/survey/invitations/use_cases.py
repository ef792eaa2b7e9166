"""Inviting enterprises to a survey, and following the invitations up (智能邀评)."""
import secrets
from datetime import timedelta

from services.survey.answers.accept import response_id_of
from services.survey.invitations import tracking
from services.survey.surveys.use_cases import survey_or_404
from shared.domain import utcnow
from shared.errors import Conflict, Invalid, NotFound, pair


def url_of(services, token):
    return f"{services.config.public_url}/s/{token}"


def invitation_out(services, doc):
    return {"enterprise": doc["enterprise"], "token": doc["_id"], "url": url_of(services, doc["_id"]),
            "expires_at": doc["expires_at"]}


def invite(services, survey_id, enterprises, expires_at=None):
    """Personal links, one per enterprise, in the order asked; an enterprise with a live (or used) invitation
    gets it back."""
    survey = survey_or_404(services, survey_id)
    if survey["status"] == "closed":
        raise Conflict("the survey is closed", {"survey_id": pair("问卷已结束", "the survey is closed")})
    codes = list(dict.fromkeys(enterprises))
    known = services.enterprises.known(codes)
    unknown = [c for c in codes if c not in known]
    if unknown:
        raise Invalid("unknown enterprises", {"enterprises": {c: pair("未知企业", "unknown enterprise") for c in unknown}})
    now = utcnow()
    expires_at = expires_at or now + timedelta(days=services.config.invitation_days)
    if expires_at <= now:
        raise Invalid("expires_at is in the past", {"expires_at": pair("有效期必须晚于现在", "must be in the future")})
    candidates = services.invitations.of_enterprises(survey_id, codes)
    used = services.responses.tokens([response_id_of(survey["code"], c) for c in codes])
    existing = {}
    for doc in candidates:  # a used invitation wins (one enterprise, one answer), then a live one
        if doc["_id"] in used or (doc["expires_at"] > now and doc["enterprise"] not in existing):
            existing[doc["enterprise"]] = doc
    fresh = [{"_id": secrets.token_urlsafe(24), "survey_id": survey_id, "enterprise": c,
              "expires_at": expires_at, "created_at": now} for c in codes if c not in existing]
    if fresh:
        services.invitations.add_many(fresh)
        if survey_or_404(services, survey_id)["status"] == "closed":  # closed while we were inviting
            services.invitations.close(survey_id)
    by_code = {**existing, **{d["enterprise"]: d for d in fresh}}
    return [invitation_out(services, by_code[c]) for c in codes]


def invitation_url(services, token):
    if not services.invitations.exists(token):
        raise NotFound("unknown invitation", {"token": pair("邀请不存在", "unknown invitation")})
    return url_of(services, token)


def answered_by_token(invitations, responses):
    """{token: answered at} over this version's invitations. An enterprise answers a survey once, whichever
    version it answered: an answer through an earlier version's link counts for its links here too."""
    tokens_by_enterprise = {}
    for inv in invitations:
        tokens_by_enterprise.setdefault(inv["enterprise"], []).append(inv["_id"])
    answered = {}
    for r in responses:
        mine = tokens_by_enterprise.get(r["enterprise"], [])
        for token in [r["token"]] if r["token"] in mine else mine:
            answered[token] = r["created_at"]
    return answered


def invitation_rows(services, survey_id, status="all", township=None):
    """One row per invited enterprise (tracking.invitation_rows), filtered by status and township."""
    survey = survey_or_404(services, survey_id)
    invitations = services.invitations.for_survey(survey_id)
    answered = answered_by_token(invitations, services.responses.of_survey_code(survey["code"]))
    opened = services.invitations.opened(survey_id)
    enterprises = services.enterprises.of({inv["enterprise"] for inv in invitations})
    rows = tracking.invitation_rows(invitations, enterprises, opened, answered, lambda t: url_of(services, t))
    return [r for r in rows if tracking.matches(r, status) and township in (None, r["township"])]
