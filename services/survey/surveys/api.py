"""Surveys (draft → open → closed, questions frozen once open)."""
from services.survey.surveys import use_cases
from services.survey.surveys.schemas import SurveyCreatedSchema, SurveyDefinitionSchema, SurveyListSchema, SurveySchema
from services.survey.web import services
from shared.keys import require
from shared.paging import PageArgsSchema, paged, window
from shared.web import Blueprint

blp = Blueprint("surveys", __name__, url_prefix="/api/v1", description="Surveys")


@blp.route("/surveys", methods=["POST"])
@require("admin")
@blp.arguments(SurveyDefinitionSchema)
@blp.response(201, SurveyCreatedSchema)
def create(body):
    """Create a survey as a draft (a code that exists gets its next version)."""
    return use_cases.create_survey(services(), body)


@blp.route("/surveys", methods=["GET"])
@require("admin")
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, SurveyListSchema)
def list_(query):
    """Surveys by code and version, a page at a time (`page`, `per_page`; `total` and `Link` say what is left)."""
    docs, total = services().surveys.page(*window(query))
    return paged("surveys", [use_cases.summary(d) for d in docs], total, query)


@blp.route("/surveys/<survey_id>", methods=["DELETE"])
@require("admin")
@blp.response(204)
@blp.alt_response(409, description="the survey is open or closed: it is the record of what was asked")
def delete(survey_id):
    """Delete a draft (an import that went wrong, say); an opened survey stays."""
    use_cases.delete_draft(services(), survey_id)


@blp.route("/surveys/<survey_id>", methods=["GET"])
@require("admin")
@blp.response(200, SurveySchema)
def get(survey_id):
    doc = use_cases.survey_or_404(services(), survey_id)
    return {**doc, "id": doc["_id"]}


@blp.route("/surveys/<survey_id>", methods=["PUT"])
@require("admin")
@blp.arguments(SurveyDefinitionSchema)
@blp.response(200, SurveyCreatedSchema)
@blp.alt_response(201, schema=SurveyCreatedSchema, description="the survey was open or closed: a new draft version")
def replace(body, survey_id):
    """Change a draft in place (200); an open or closed survey is frozen, so this makes a new version (201)."""
    summary, created = use_cases.replace_survey(services(), survey_id, body)
    return summary, 201 if created else 200


@blp.route("/surveys/<survey_id>/open", methods=["POST"])
@require("admin")
@blp.response(200, SurveyCreatedSchema)
def open_(survey_id):
    """Open a draft for answers; its questions are frozen from now on."""
    return use_cases.open_survey(services(), survey_id)


@blp.route("/surveys/<survey_id>/close", methods=["POST"])
@require("admin")
@blp.response(200, SurveyCreatedSchema)
def close(survey_id):
    """Close an open survey: its links answer 410 from now on."""
    return use_cases.close_survey(services(), survey_id)
