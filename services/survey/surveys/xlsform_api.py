"""`POST /api/v1/surveys/import`: an XLSForm workbook becomes a draft survey (mapping in services/survey/xlsform.py)."""
from flask_smorest import Blueprint, abort
from marshmallow import ValidationError

from services.survey.schemas import SurveyCreatedSchema, SurveyDefinitionSchema, UploadSchema
from services.survey.surveys import rules as forms
from services.survey.surveys import xlsform
from services.survey.surveys.api import insert_version, summary
from services.survey.web import accepts_upload, services
from shared.keys import require

blp = Blueprint("survey_import", __name__, url_prefix="/api/v1", description="XLSForm import of surveys")


def by_row(errors, questions, rows):
    """Per-question errors (keyed by index or id) re-keyed by the survey sheet's row, as the admin sees it."""
    out = {}
    for key, problem in errors.items():
        qid = questions[key]["id"] if isinstance(key, int) and key < len(questions) else key
        out[f"row {rows[qid]}" if qid in rows else f"question {qid}"] = problem
    return out


def draft_from_xlsform(content):
    """An XLSForm workbook stored as the next draft version of its survey code (summary), or XLSFormRefused
    naming each row that cannot be mapped and why."""
    form, rows = xlsform.parse(content)
    definition = xlsform.definition_of(form, rows)
    try:
        body = SurveyDefinitionSchema().load(definition)
    except ValidationError as invalid:
        errors = dict(invalid.messages)
        if isinstance(errors.get("questions"), dict):
            errors.update(by_row(errors.pop("questions"), definition["questions"], rows))
        raise xlsform.XLSFormRefused("the survey in the workbook is not valid", errors) from invalid
    known = {d["_id"] for d in services().store.departments.find({}, {"_id": 1})}
    problems = forms.check_definition(body["questions"], known)
    if problems:
        raise xlsform.XLSFormRefused("some questions are not valid", by_row(problems, body["questions"], rows))
    return summary(insert_version(body))


@blp.route("/surveys/import", methods=["POST"])
@require("admin")
@accepts_upload
@blp.arguments(UploadSchema, location="files")
@blp.response(201, SurveyCreatedSchema)
def import_(files):
    """Create a draft survey from an XLSForm (.xlsx); 400 names each row that cannot be mapped and why."""
    try:
        return draft_from_xlsform(files["file"].read())
    except xlsform.XLSFormRefused as refused:
        abort(400, message=refused.message, errors=refused.errors)
