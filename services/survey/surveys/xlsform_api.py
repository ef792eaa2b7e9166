"""`POST /api/v1/surveys/import`: an XLSForm workbook becomes a draft survey (mapping in surveys/xlsform.py)."""
from marshmallow import ValidationError

from services.survey.surveys import form, xlsform
from services.survey.surveys.schemas import SurveyCreatedSchema, SurveyDefinitionSchema
from services.survey.surveys.use_cases import summary
from services.survey.web import UploadSchema, accepts_upload, services
from shared.domain import utcnow
from shared.errors import Invalid
from shared.keys import require
from shared.web import Blueprint

blp = Blueprint("survey_import", __name__, url_prefix="/api/v1", description="XLSForm import of surveys")


def by_row(errors, questions, rows):
    """Per-question errors (keyed by index or id) re-keyed by the survey sheet's row, as the admin sees it."""
    out = {}
    for key, problem in errors.items():
        qid = questions[key]["id"] if isinstance(key, int) and key < len(questions) else key
        out[f"row {rows[qid]}" if qid in rows else f"question {qid}"] = problem
    return out


def import_survey(svc, content):
    """A draft survey from an XLSForm's bytes; Invalid names each row that cannot be mapped and why."""
    form_json, rows = xlsform.parse(content)
    definition = xlsform.definition_of(form_json, rows)
    try:
        body = SurveyDefinitionSchema().load(definition)
    except ValidationError as invalid:
        errors = dict(invalid.messages)
        if isinstance(errors.get("questions"), dict):
            errors.update(by_row(errors.pop("questions"), definition["questions"], rows))
        raise Invalid("the survey in the workbook is not valid", errors) from invalid
    problems = form.check_definition(body["questions"], svc.departments.codes())
    if problems:
        raise Invalid("some questions are not valid", by_row(problems, body["questions"], rows))
    return summary(svc.surveys.add_version(body, utcnow()))


@blp.route("/surveys/import", methods=["POST"])
@require("admin")
@accepts_upload
@blp.arguments(UploadSchema, location="files")
@blp.response(201, SurveyCreatedSchema)
def import_(files):
    """Create a draft survey from an XLSForm (.xlsx); 400 names each row that cannot be mapped and why."""
    return import_survey(services(), files["file"].read())
