"""Accepting an enterprise's answers: the one path behind the JSON API and the no-JavaScript form.

Order of checks, so that a phone on a bad network can resend safely: unknown token 404; then expiry and
survey status 410 and the answers themselves 400, except that once the enterprise has answered, the
identical resend on the same token gets 202 with the same id and anything else 409. A rejected submission stores and publishes nothing.
"""
import hashlib
import json

from pymongo.errors import DuplicateKeyError

from services.survey.demands import ledger
from services.survey.demands.rules import Terms
from services.survey.surveys import rules as forms
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


def response_id_of(survey_code, enterprise):
    """The id of an enterprise's answer to a survey (every version of one code).

    Deriving it makes MongoDB's unique `_id` enforce one enterprise, one answer, and with it single use
    of each token (a token belongs to one enterprise and survey), with no secondary index on the hot
    path: each one triples the cost of an insert on the embedded server. A resend maps to the same id.
    The token itself is not in the id, so it never travels in messages.
    """
    return hashlib.sha256(f"{survey_code}\x1f{enterprise}".encode()).hexdigest()[:32]


def replay(store, response_id, token, answers):
    """The outcome of a submission once an answer exists: its id for the identical resend, else 409."""
    previous = store.responses.find_one({"_id": response_id}, {"fingerprint": 1, "token": 1})
    if previous is None:
        return None
    if previous["token"] == token and previous["fingerprint"] == fingerprint(answers):
        return previous["_id"]
    if previous["token"] == token:
        raise Rejected(409, "this link has already been used to answer; one enterprise, one answer",
                       {"token": ["链接已使用", "already used"]})
    raise Rejected(409, "this enterprise has already answered this survey",
                   {"token": ["该企业已答过此问卷", "already answered by this enterprise"]})


def response_message(response_id, survey, enterprise, ratings, nps, at):
    data = {"source_id": response_id, "channel": "survey", "period": survey["period"], "survey_id": survey["_id"],
            "enterprise": {"code": enterprise["_id"], **{k: enterprise[k] for k in SNAPSHOT}},
            "ratings": ratings, "nps": nps}
    return messages.envelope(messages.RESPONSE_SUBMITTED, data, id_=response_id, occurred_at=at)


def accept(services, token, answers, reasons=None):
    """Accept `answers` for `token` durably; returns the response id or raises Rejected.

    `reasons` ({rating question id: text}) says why the enterprise gave a rating of 1–2; it travels with the
    差评 demand to the rated department, and is stored with the answer but never put in the event.
    """
    reasons = forms.clean_reasons(reasons)
    store = services.store
    invitation = store.invitations.find_one({"_id": token})
    if invitation is None:
        raise Rejected(404, "unknown link", {"token": ["链接无效", "unknown token"]})
    survey = store.survey_for_answers(invitation["survey_id"])
    response_id = response_id_of(survey["code"], invitation["enterprise"])
    now = utcnow()
    status = "closed" if invitation.get("closed") else survey["status"]
    if invitation["expires_at"] <= now or status != "open":
        done = replay(store, response_id, token, answers)
        if done:
            return done
        why = "expired" if invitation["expires_at"] <= now else f"survey is {status}"
        raise Rejected(410, f"this link can no longer be answered: {why}", {"token": ["链接已过期或问卷未开放", why]})
    errors = forms.validate_answers(survey["questions"], answers)
    if not errors:
        errors = forms.validate_reasons(survey["questions"], forms.clean_answers(survey["questions"], answers), reasons)
    if errors:
        done = replay(store, response_id, token, answers)
        if done:
            return done
        raise Rejected(400, "some answers are not valid / 部分回答无效", errors)
    enterprise = store.enterprises.find_one({"_id": invitation["enterprise"]})
    clean = forms.clean_answers(survey["questions"], answers)
    ratings = forms.ratings_of(survey["questions"], clean, survey.get("scale"))
    message = response_message(response_id, survey, enterprise, ratings, forms.nps_of(survey["questions"], clean), now)
    record = {"_id": response_id, "token": token, "survey_id": survey["_id"], "survey_code": survey["code"],
              "enterprise": enterprise["_id"], "answers": clean, **({"reasons": reasons} if reasons else {}),
              "fingerprint": fingerprint(answers),
              "created_at": now, "routing_key": messages.RESPONSE_SUBMITTED, "message": message, "published": False}
    rectifications = bad_rating_demands(services, survey, enterprise["_id"], response_id,
                                        with_reasons(survey["questions"], clean, ratings, reasons), now)
    try:
        store_response(store, record, rectifications)
    except DuplicateKeyError:
        return replay(store, response_id, token, answers)
    # Durable from here (journaled); publishing now only saves the relay the work.
    services.outbox.publish_now("responses", response_id, messages.RESPONSE_SUBMITTED, message)
    ledger.publish_records(services.outbox, "demands", rectifications)
    return response_id


def with_reasons(questions, answers, ratings, reasons):
    """The ratings with the enterprise's reason as `comment`: the one it gave for the rating, else its text
    answer right after the rating when the comment rule gives that text to the rated department."""
    following = {}
    for before, after in zip(questions, questions[1:]):
        if before["type"] == "rating5" and after["type"] == "text" and after.get("department") in (None, before["department"]):
            following[before["id"]] = answers.get(after["id"])
    return [{**r, "comment": reasons.get(r["question"]) or following.get(r["question"])} for r in ratings]


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
