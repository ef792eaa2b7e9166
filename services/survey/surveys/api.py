"""Surveys (draft → open → closed, questions frozen once open) and their invitations."""
import secrets
from datetime import timedelta

from flask_smorest import Blueprint, abort
from pymongo.errors import DuplicateKeyError

from services.survey.answers.accept import response_id_of
from services.survey.schemas import (
    InvitationListSchema,
    InvitationRequestSchema,
    SurveyCreatedSchema,
    SurveyDefinitionSchema,
    SurveyListSchema,
    SurveySchema,
)
from services.survey.surveys import rules as forms
from services.survey.web import LIST_LIMIT, body_limit, services
from shared.domain import utcnow
from shared.keys import require
from shared.mongo import find_in
from shared.paging import PageArgsSchema, paged, window

blp = Blueprint("surveys", __name__, url_prefix="/api/v1", description="Surveys and invitations")

DEFINITION_FIELDS = ("code", "title", "period", "scale", "questions")


def survey_or_404(survey_id):
    doc = services().store.surveys.find_one({"_id": survey_id})
    if doc is None:
        abort(404, message=f"no survey {survey_id}")
    return doc


def summary(doc):
    return {"id": doc["_id"], "code": doc["code"], "version": doc["version"], "status": doc["status"]}


def check_questions(body):
    known = {d["_id"] for d in services().store.departments.find({}, {"_id": 1})}
    errors = forms.check_definition(body["questions"], known)
    if errors:
        abort(400, message="some questions are not valid", errors={"questions": errors})


def insert_version(body):
    """Store a definition as the next version of its code, as a draft."""
    store = services().store
    for _ in range(5):
        last = store.surveys.find_one({"code": body["code"]}, sort=[("version", -1)])
        doc = {"_id": secrets.token_hex(6), **{k: body.get(k) for k in DEFINITION_FIELDS},
               "version": (last["version"] + 1) if last else 1, "status": "draft", "created_at": utcnow()}
        try:
            store.surveys.insert_one(doc)
            return doc
        except DuplicateKeyError:
            continue  # another version was stored at the same moment; take the next number
    abort(409, message="could not store a new version; try again")


@blp.route("/surveys", methods=["POST"])
@require("admin")
@blp.arguments(SurveyDefinitionSchema)
@blp.response(201, SurveyCreatedSchema)
def create(body):
    """Create a survey as a draft (a code that exists gets its next version)."""
    check_questions(body)
    return summary(insert_version(body))


@blp.route("/surveys", methods=["GET"])
@require("admin")
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, SurveyListSchema)
def list_(query):
    """Surveys by code and version, a page at a time (`page`, `per_page`, `total`, `Link`)."""
    store = services().store
    skip, limit = window(query)
    docs = store.surveys.find({}, {"questions": 0}).sort([("code", 1), ("version", 1)]).skip(skip).limit(limit)
    return paged("surveys", [summary(d) for d in docs], store.surveys.count_documents({}), query)


@blp.route("/surveys/<survey_id>", methods=["GET"])
@require("admin")
@blp.response(200, SurveySchema)
def get(survey_id):
    doc = survey_or_404(survey_id)
    return {**doc, "id": doc["_id"]}


@blp.route("/surveys/<survey_id>", methods=["PUT"])
@require("admin")
@blp.arguments(SurveyDefinitionSchema)
@blp.response(200, SurveyCreatedSchema)
@blp.alt_response(201, schema=SurveyCreatedSchema, description="the survey was open or closed: a new draft version")
def replace(body, survey_id):
    """Change a draft in place (200); an open or closed survey is frozen, so this makes a new version (201)."""
    doc = survey_or_404(survey_id)
    if body["code"] != doc["code"]:
        abort(400, message="the code of a survey cannot change", errors={"code": ["differs from the survey's"]})
    check_questions(body)
    if doc["status"] == "draft":
        result = services().store.surveys.update_one(
            {"_id": survey_id, "status": "draft"}, {"$set": {k: body.get(k) for k in DEFINITION_FIELDS}})
        if result.matched_count == 1:
            return summary({**doc, **body})
    return summary(insert_version(body)), 201


@blp.route("/surveys/<survey_id>", methods=["DELETE"])
@require("admin")
@blp.response(204)
@blp.alt_response(409, description="the survey is open or closed: it has (or had) answers' links")
def delete(survey_id):
    """Delete a draft (an import that went wrong, say); an open or closed survey stays, it is the record."""
    doc = survey_or_404(survey_id)
    deleted = services().store.surveys.delete_one({"_id": survey_id, "status": "draft"}).deleted_count
    if not deleted:
        abort(409, message=f"a {doc['status']} survey cannot be deleted; only drafts can",
              errors={"status": [f"只能删除草稿问卷（此问卷状态为 {doc['status']}）", "only a draft can be deleted"]})
    return None


def transition(survey_id, allowed_from, to):
    doc = survey_or_404(survey_id)
    if to == "closed" and doc["status"] in ("open", "closed"):
        # Before the status: answer paths cache open surveys and learn of the close from the invitation.
        services().store.close_invitations(survey_id)
    if doc["status"] == to:
        return summary(doc)
    if doc["status"] not in allowed_from:
        abort(409, message=f"a {doc['status']} survey cannot become {to}")
    services().store.surveys.update_one({"_id": survey_id, "status": doc["status"]},
                                        {"$set": {"status": to, f"{to}_at": utcnow()}})
    return summary(survey_or_404(survey_id))


@blp.route("/surveys/<survey_id>/open", methods=["POST"])
@require("admin")
@blp.response(200, SurveyCreatedSchema)
def open_(survey_id):
    """Open a draft for answers; its questions are frozen from now on."""
    return transition(survey_id, ("draft",), "open")


@blp.route("/surveys/<survey_id>/close", methods=["POST"])
@require("admin")
@blp.response(200, SurveyCreatedSchema)
def close(survey_id):
    """Close an open survey: its links answer 410 from now on."""
    return transition(survey_id, ("open",), "closed")


def invitation_out(doc):
    return {"enterprise": doc["enterprise"], "token": doc["_id"],
            "url": f"{services().config.public_url}/s/{doc['_id']}", "expires_at": doc["expires_at"]}


@blp.route("/surveys/<survey_id>/invitations", methods=["POST"])
@require("admin")
@body_limit(LIST_LIMIT)
@blp.arguments(InvitationRequestSchema)
@blp.response(201, InvitationListSchema)
def invite(body, survey_id):
    """Personal links, one per enterprise; an enterprise with a live (or used) invitation gets it back."""
    svc = services()
    survey = survey_or_404(survey_id)
    if survey["status"] == "closed":
        abort(409, message="the survey is closed")
    codes = list(dict.fromkeys(body["enterprises"]))
    known = {d["_id"] for d in find_in(svc.store.enterprises, "_id", codes, {"_id": 1})}
    unknown = [c for c in codes if c not in known]
    if unknown:
        abort(400, message="unknown enterprises",
              errors={"enterprises": {c: ["未知企业", "unknown enterprise"] for c in unknown}})
    now = utcnow()
    expires_at = body.get("expires_at") or now + timedelta(days=svc.config.invitation_days)
    if expires_at <= now:
        abort(400, message="expires_at is in the past", errors={"expires_at": ["must be in the future"]})
    candidates = list(find_in(svc.store.invitations, "enterprise", codes, survey_id=survey_id))
    used = {r["token"] for r in find_in(svc.store.responses, "_id", [response_id_of(survey["code"], c) for c in codes],
                                        {"token": 1})}
    existing = {}
    for doc in candidates:  # a used invitation wins (one enterprise, one answer), then a live one
        if doc["_id"] in used or (doc["expires_at"] > now and doc["enterprise"] not in existing):
            existing[doc["enterprise"]] = doc
    fresh = [{"_id": secrets.token_urlsafe(24), "survey_id": survey_id, "enterprise": c,
              "expires_at": expires_at, "created_at": now} for c in codes if c not in existing]
    if fresh:
        svc.store.invitations.insert_many(fresh)
        if survey_or_404(survey_id)["status"] == "closed":  # closed while we were inviting
            svc.store.close_invitations(survey_id)
    by_code = {**existing, **{d["enterprise"]: d for d in fresh}}
    return {"invitations": [invitation_out(by_code[c]) for c in codes]}
