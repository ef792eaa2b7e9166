"""Inviting enterprises to a survey, and following the invitations up (智能邀评)."""
from datetime import timedelta

from services.survey.answers.accept import response_id_of
from services.survey.invitations import tracking
from services.survey.invitations.tokens import invitation_id, new_token, seal_of
from services.survey.surveys.use_cases import survey_or_404
from shared.domain import utcnow
from shared.errors import Conflict, Invalid, NotFound, pair


def url_of(services, token):
    return f"{services.config.public_url}/s/{token}" if token else None


def token_of(services, doc):
    """The token of a stored invitation (its sealed copy opened), or None when it cannot be shown again."""
    seal = seal_of(services.config)
    return seal.open(doc.get("sealed"), doc["_id"]) if seal else None


def new_invitation(services, survey_id, code, expires_at, now):
    """(token, document): the document keeps the token's digest and its sealed copy, never the token."""
    token, seal = new_token(), seal_of(services.config)
    inv_id = invitation_id(token)
    return token, {"_id": inv_id, "survey_id": survey_id, "enterprise": code, "expires_at": expires_at,
                   "created_at": now, "sealed": seal.seal(token, inv_id) if seal else None}


def invitation_out(services, doc, token):
    return {"enterprise": doc["enterprise"], "token": token, "url": url_of(services, token),
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
    used = services.responses.invitations([response_id_of(survey["code"], c) for c in codes])
    existing = {}
    for doc in candidates:  # a used invitation wins (one enterprise, one answer), then a live one
        if doc["_id"] in used or (doc["expires_at"] > now and doc["enterprise"] not in existing):
            existing[doc["enterprise"]] = doc
    tokens = {code: token_of(services, doc) for code, doc in existing.items()}
    # A live, unused link that cannot be shown again (no token key, or a changed one) is re-issued: the new
    # link is shown, the old one ends now.
    unshowable = [doc for code, doc in existing.items() if tokens[code] is None and doc["_id"] not in used]
    for doc in unshowable:
        del existing[doc["enterprise"]]
    fresh = [new_invitation(services, survey_id, c, expires_at, now) for c in codes if c not in existing]
    if fresh:
        services.invitations.add_many([doc for _, doc in fresh])
        if unshowable:
            services.invitations.expire([doc["_id"] for doc in unshowable], now)
        if survey_or_404(services, survey_id)["status"] == "closed":  # closed while we were inviting
            services.invitations.close(survey_id)
    by_code = {**{c: (tokens[c], d) for c, d in existing.items()}, **{d["enterprise"]: (t, d) for t, d in fresh}}
    return [invitation_out(services, by_code[c][1], by_code[c][0]) for c in codes]


def invitation_url(services, ref):
    """The link of an invitation named by its token (as the links say) or its id (`id` in the list)."""
    doc = services.invitations.get(ref) or services.invitations.by_id(ref)
    if doc is None:
        raise NotFound("unknown invitation", {"token": pair("邀请不存在", "unknown invitation")})
    token = token_of(services, doc)
    if token is None and invitation_id(ref) == doc["_id"]:
        token = ref  # named by its token: the caller has it
    if token is None:
        raise Conflict("this link cannot be shown again; invite the enterprise again for a new one",
                       {"token": pair("链接无法再次显示，请重新邀请以生成新链接", "cannot be shown again; re-invite")})
    return url_of(services, token)


def answered_by_invitation(invitations, responses):
    """{invitation id: answered at} over this version's invitations. An enterprise answers a survey once,
    whichever version it answered: an answer through an earlier version's link counts for its links here too."""
    ids_by_enterprise = {}
    for inv in invitations:
        ids_by_enterprise.setdefault(inv["enterprise"], []).append(inv["_id"])
    answered = {}
    for r in responses:
        mine = ids_by_enterprise.get(r["enterprise"], [])
        for inv_id in [r.get("invitation")] if r.get("invitation") in mine else mine:
            answered[inv_id] = r["created_at"]
    return answered


def invitation_rows(services, survey_id, status="all", township=None):
    """One row per invited enterprise (tracking.invitation_rows), filtered by status and township."""
    survey = survey_or_404(services, survey_id)
    invitations = services.invitations.for_survey(survey_id)
    answered = answered_by_invitation(invitations, services.responses.of_survey_code(survey["code"]))
    opened = services.invitations.opened(survey_id)
    enterprises = services.enterprises.of({inv["enterprise"] for inv in invitations})
    rows = tracking.invitation_rows(invitations, enterprises, opened, answered, lambda inv: token_of(services, inv),
                                    lambda t: url_of(services, t))
    return [r for r in rows if tracking.matches(r, status) and township in (None, r["township"])]
