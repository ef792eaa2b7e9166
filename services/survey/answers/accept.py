"""Accepting an enterprise's answers: the one path behind the JSON API and the no-JavaScript form.

Order of checks, so that a phone on a bad network can resend safely: unknown token 404; then expiry and
survey status 410 and the answers themselves 400, except that once the enterprise has answered, the
identical resend on the same token gets 202 with the same id and anything else 409. A rejected submission stores and publishes nothing.
"""
import hashlib
import json

from services.survey.demands import ledger
from services.survey.demands.rules import Terms
from services.survey.enterprises.rules import snapshot
from services.survey.outbox import event_record
from services.survey.surveys import form
from shared import messages
from shared.domain import utcnow
from shared.errors import AlreadyExists, Conflict, Gone, Invalid, NotFound, pair


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


def replay(services, response_id, inv_id, answers):
    """The outcome of a submission once an answer exists: its id for the identical resend, else 409."""
    previous = services.responses.get(response_id)
    if previous is None:
        return None
    same_link = previous.get("invitation") == inv_id
    if same_link and previous["fingerprint"] == fingerprint(answers):
        return previous["_id"]
    if same_link:
        raise Conflict("this link has already been used to answer; one enterprise, one answer",
                       {"token": pair("链接已使用", "already used")})
    raise Conflict("this enterprise has already answered this survey",
                   {"token": pair("该企业已答过此问卷", "already answered by this enterprise")})


def response_message(response_id, survey, enterprise, ratings, nps, at, choices=()):
    data = {"source_id": response_id, "channel": "survey", "period": survey["period"], "survey_id": survey["_id"],
            "survey_title": survey["title"], "enterprise": snapshot(enterprise), "ratings": ratings, "nps": nps, "choices": list(choices)}
    return messages.envelope(messages.RESPONSE_SUBMITTED, data, id_=response_id, occurred_at=at)


def accept(services, token, answers, contact_ok=False, reasons=None, client=None, device=None):
    """Accept `answers` for `token` durably; returns the response id or raises a Refused (404, 409, 410, 400).

    `contact_ok`: the enterprise agrees that the departments it rates 1–2 may learn who it is (实名回访).
    `reasons` ({rating question id: text}) says why the enterprise gave a rating of 1–2; it travels with the
    差评 demand to the rated department, and is stored with the answer but never put in the event.
    `client`, `device`: salted hashes of the client's address and of its device id (flags.use_cases), kept for
    the burst rule.
    """
    reasons = form.clean_reasons(reasons)
    invitation = services.invitations.get(token)
    if invitation is None:
        raise NotFound("unknown link", {"token": pair("链接无效", "unknown token")})
    survey = services.surveys.for_answers(invitation["survey_id"])
    response_id = response_id_of(survey["code"], invitation["enterprise"])
    now = utcnow()
    status = "closed" if invitation.get("closed") else survey["status"]
    if invitation["expires_at"] <= now or status != "open":
        done = replay(services, response_id, invitation["_id"], answers)
        if done:
            return done
        why = "expired" if invitation["expires_at"] <= now else f"survey is {status}"
        raise Gone(f"this link can no longer be answered: {why}", {"token": pair("链接已过期或问卷未开放", why)})
    errors = form.validate_answers(survey["questions"], answers)
    if not errors:
        errors = form.validate_reasons(survey["questions"], form.clean_answers(survey["questions"], answers), reasons)
    if errors:
        done = replay(services, response_id, invitation["_id"], answers)
        if done:
            return done
        raise Invalid("some answers are not valid / 部分回答无效", errors)
    enterprise = services.enterprises.get(invitation["enterprise"])
    clean = form.clean_answers(survey["questions"], answers)
    ratings = form.ratings_of(survey["questions"], clean, survey.get("scale"))
    message = response_message(response_id, survey, enterprise, ratings, form.nps_of(survey["questions"], clean), now,
                               form.choices_of(survey["questions"], clean))
    # The answer names its invitation by id (the token's digest): the token itself is never stored.
    record = {"_id": response_id, "invitation": invitation["_id"], "survey_id": survey["_id"], "survey_code": survey["code"],
              "enterprise": enterprise["code"], "answers": clean, "contact_ok": bool(contact_ok),
              **({"reasons": reasons} if reasons else {}), **({"client": client} if client else {}),
              **({"device": device} if device else {}), "fingerprint": fingerprint(answers), "created_at": now}
    # One unit of work: one journaled insert, or with 差评 demands one transaction, so neither exists alone.
    uow = services.unit_of_work()
    services.responses.add(uow, event_record(messages.RESPONSE_SUBMITTED, message, record))
    services.demands.add_all(uow, bad_rating_demands(services, survey, enterprise["code"], response_id,
                                                     with_reasons(survey["questions"], clean, ratings, reasons), now,
                                                     contact_ok))
    try:
        uow.commit()
    except AlreadyExists:  # the same answer sent twice at once, or another link of the same enterprise
        return replay(services, response_id, invitation["_id"], answers)
    return response_id


def with_reasons(questions, answers, ratings, reasons):
    """The ratings with the enterprise's reason as `comment`: the one it gave for the rating, else its text
    answer right after the rating when the comment rule gives that text to the rated department."""
    following = {}
    for before, after in zip(questions, questions[1:]):
        if before["type"] == "rating5" and after["type"] == "text" and after.get("department") in (None, before["department"]):
            following[before["id"]] = answers.get(after["id"])
    return [{**r, "comment": reasons.get(r["question"]) or following.get(r["question"])} for r in ratings]


def bad_rating_demands(services, survey, enterprise_code, response_id, ratings, at, contact_ok=False):
    """The 差评 rectification demands an answer opens, one per rating at level 1–2."""
    texts = {q["id"]: q["text"] for q in survey["questions"]}
    return ledger.rectifications(
        ratings, at, enterprise_code, {"kind": "response", "id": response_id, "survey": survey["_id"]},
        Terms.of(services.config), lambda r: (texts[r["question"]], {"question": r["question"]}),
        contact_ok=bool(contact_ok))
