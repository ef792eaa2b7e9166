"""Accepting an enterprise's answers: the one path behind the JSON API and the no-JavaScript form.

Order of checks, so that a phone on a bad network can resend safely: unknown token 404; a used token
answers 202 with the same id for the identical submission and 409 otherwise; then expiry and survey
status 410; then the answers themselves 400. A rejected submission stores and publishes nothing.
"""
import hashlib
import json
import uuid

from pymongo.errors import DuplicateKeyError

from services.survey import forms, ledger
from services.survey.demands import Terms
from shared import messages, mongo
from shared.domain import utcnow

SNAPSHOT = ("scale", "ownership", "capital", "township", "industry")


class Rejected(Exception):
    """A submission that is not accepted: HTTP status, message and per-field errors."""

    def __init__(self, status, message, errors):
        super().__init__(message)
        self.status, self.message, self.errors = status, message, errors


def fingerprint(answers):
    return hashlib.sha256(json.dumps(answers, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def replay(store, token, answers):
    """The outcome of a submission on a used token: its response id for the identical body, else 409."""
    previous = store.responses.find_one({"token": token}, {"fingerprint": 1})
    if previous is None:
        return None
    if previous["fingerprint"] == fingerprint(answers):
        return previous["_id"]
    raise Rejected(409, "this link has already been used to answer; one enterprise, one answer",
                   {"token": ["链接已使用", "already used"]})


def response_message(response_id, survey, enterprise, ratings, nps, at):
    data = {"source_id": response_id, "channel": "survey", "period": survey["period"], "survey_id": survey["_id"],
            "enterprise": {"code": enterprise["_id"], **{k: enterprise[k] for k in SNAPSHOT}},
            "ratings": ratings, "nps": nps}
    return messages.envelope(messages.RESPONSE_SUBMITTED, data, id_=response_id, occurred_at=at)


def accept(services, token, answers):
    """Accept `answers` for `token` durably; returns the response id or raises Rejected."""
    store = services.store
    invitation = store.invitations.find_one({"_id": token})
    if invitation is None:
        raise Rejected(404, "unknown link", {"token": ["链接无效", "unknown token"]})
    survey = store.surveys.find_one({"_id": invitation["survey_id"]})
    now = utcnow()
    if invitation["expires_at"] <= now or survey["status"] != "open":
        done = replay(store, token, answers)
        if done:
            return done
        why = "expired" if invitation["expires_at"] <= now else f"survey is {survey['status']}"
        raise Rejected(410, f"this link can no longer be answered: {why}", {"token": ["链接已过期或问卷未开放", why]})
    errors = forms.validate_answers(survey["questions"], answers)
    if errors:
        done = replay(store, token, answers)
        if done:
            return done
        raise Rejected(400, "some answers are not valid / 部分回答无效", errors)
    enterprise = store.enterprises.find_one({"_id": invitation["enterprise"]})
    clean = forms.clean_answers(survey["questions"], answers)
    ratings = forms.ratings_of(survey["questions"], clean, survey.get("scale"))
    response_id = uuid.uuid4().hex
    message = response_message(response_id, survey, enterprise, ratings, forms.nps_of(survey["questions"], clean), now)
    record = {"_id": response_id, "token": token, "survey_id": survey["_id"], "survey_code": survey["code"],
              "enterprise": enterprise["_id"], "answers": clean, "fingerprint": fingerprint(answers),
              "created_at": now, "routing_key": messages.RESPONSE_SUBMITTED, "message": message, "published": False}
    rectifications = bad_rating_demands(services, survey, enterprise["_id"], response_id, ratings, now)
    try:
        store_response(store, record, rectifications)
    except DuplicateKeyError:
        done = replay(store, token, answers)
        if done:
            return done
        raise Rejected(409, "this enterprise has already answered this survey",
                       {"token": ["该企业已答过此问卷", "already answered by this enterprise"]})
    # Durable from here (journaled); publishing now only saves the relay the work.
    services.outbox.publish_now("responses", response_id, messages.RESPONSE_SUBMITTED, message)
    ledger.publish_records(services.outbox, "demands", rectifications)
    return response_id


def bad_rating_demands(services, survey, enterprise_code, response_id, ratings, at):
    """The 差评 rectification demands an answer opens, one per rating at level 1–2."""
    texts = {q["id"]: q["text"] for q in survey["questions"]}
    return ledger.rectifications(
        ratings, at, enterprise_code, {"kind": "response", "id": response_id, "survey": survey["_id"]},
        Terms.of(services.config), lambda r: (texts[r["question"]], {"question": r["question"]}))


def store_response(store, record, rectifications):
    """One journaled insert; with 差评 demands, one transaction of inserts, so that neither exists alone."""
    if not rectifications:
        store.responses.insert_one(record)
        return

    def work(session):
        store.responses.insert_one(record, session=session)
        store.demands.insert_many(rectifications, session=session)
    mongo.run_transaction(store.client, work)
