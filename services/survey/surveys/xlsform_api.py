"""`POST /api/v1/surveys/import`: an XLSForm workbook becomes a draft survey (mapping in surveys/xlsform.py)."""
from services.survey.surveys.schemas import SurveyCreatedSchema
from services.survey.surveys.use_cases import import_xlsform
from services.survey.web import UploadSchema, accepts_upload, services
from shared.keys import require
from shared.web import Blueprint

blp = Blueprint("survey_import", __name__, url_prefix="/api/v1", description="XLSForm import of surveys")


@blp.route("/surveys/import", methods=["POST"])
@require("admin")
@accepts_upload
@blp.arguments(UploadSchema, location="files")
@blp.response(201, SurveyCreatedSchema)
def import_(files):
    """Create a draft survey from an XLSForm (.xlsx); 400 names each row that cannot be mapped and why."""
    return import_xlsform(services(), files["file"].read())
