"""Answers: `POST /api/v1/responses` (the token is the credential).

Order of checks, so that a phone on a bad network can resend safely: unknown token 404; a used token
answers 202 with the same id for the identical submission and 409 otherwise; then expiry and survey
status 410; then the answers themselves 400. A rejected request stores and publishes nothing.
"""
import hashlib
import json
import uuid

from flask_smorest import Blueprint, abort
from pymongo.errors import DuplicateKeyError

from services.survey import forms
from services.survey.api import services
from services.survey.schemas import ResponseAcceptedSchema, ResponseBodySchema
from shared import messages
from shared.domain import utcnow

blp = Blueprint("responses", __name__, url_prefix="/api/v1", description="Answers (no key: the token)")

SNAPSHOT = ("scale", "ownership", "capital", "township", "industry")


def fingerprint(answers):
    return hashlib.sha256(json.dumps(answers, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def replay(store, token, answers):
    """The answer to a submission on a used token: the same 202 for the identical body, else 409."""
    previous = store.responses.find_one({"token": token}, {"fingerprint": 1})
    if previous is None:
        return None
    if previous["fingerprint"] == fingerprint(answers):
        return {"response_id": previous["_id"]}, 202
    abort(409, message="this link has already been used to answer; one enterprise, one answer",
          errors={"token": ["链接已使用", "already used"]})


def response_message(response_id, survey, enterprise, ratings, nps, at):
    data = {"source_id": response_id, "channel": "survey", "period": survey["period"], "survey_id": survey["_id"],
            "enterprise": {"code": enterprise["_id"], **{k: enterprise[k] for k in SNAPSHOT}},
            "ratings": ratings, "nps": nps}
    return messages.envelope(messages.RESPONSE_SUBMITTED, data, id_=response_id, occurred_at=at)


@blp.route("/responses", methods=["POST"])
@blp.arguments(ResponseBodySchema)
@blp.response(202, ResponseAcceptedSchema)
@blp.alt_response(404, description="unknown token")
@blp.alt_response(409, description="token already used with different answers")
@blp.alt_response(410, description="token expired or survey not open")
@blp.doc(security=[])
def submit(body):
    """Submit an enterprise's answers; 202 only once they are durable."""
    svc = services()
    store, token, answers = svc.store, body["token"], body["answers"]
    invitation = store.invitations.find_one({"_id": token})
    if invitation is None:
        abort(404, message="unknown link", errors={"token": ["链接无效", "unknown token"]})
    survey = store.surveys.find_one({"_id": invitation["survey_id"]})
    now = utcnow()
    if invitation["expires_at"] <= now or survey["status"] != "open":
        done = replay(store, token, answers)
        if done:
            return done
        why = "expired" if invitation["expires_at"] <= now else f"survey is {survey['status']}"
        abort(410, message=f"this link can no longer be answered: {why}",
              errors={"token": ["链接已过期或问卷未开放", why]})
    errors = forms.validate_answers(survey["questions"], answers)
    if errors:
        done = replay(store, token, answers)
        if done:
            return done
        abort(400, message="some answers are not valid / 部分回答无效", errors=errors)
    enterprise = store.enterprises.find_one({"_id": invitation["enterprise"]})
    clean = forms.clean_answers(survey["questions"], answers)
    ratings = forms.ratings_of(survey["questions"], clean, survey.get("scale"))
    response_id = uuid.uuid4().hex
    message = response_message(response_id, survey, enterprise, ratings,
                               forms.nps_of(survey["questions"], clean), now)
    try:
        store.responses.insert_one({
            "_id": response_id, "token": token, "survey_id": survey["_id"], "survey_code": survey["code"],
            "enterprise": enterprise["_id"], "answers": clean, "fingerprint": fingerprint(answers),
            "created_at": now, "routing_key": messages.RESPONSE_SUBMITTED, "message": message,
            "published": False})
    except DuplicateKeyError:
        done = replay(store, token, answers)
        if done:
            return done
        abort(409, message="this enterprise has already answered this survey",
              errors={"token": ["该企业已答过此问卷", "already answered by this enterprise"]})
    # Durable from here (journaled); publishing now only saves the relay the work.
    svc.outbox.publish_now("responses", response_id, messages.RESPONSE_SUBMITTED, message)
    return {"response_id": response_id}
