"""`POST /api/v1/surveys/import`: an XLSForm workbook becomes a draft survey (mapping in surveys/xlsform.py)."""
from services.survey.surveys.schemas import SurveyImportedSchema
from services.survey.surveys.use_cases import import_xlsform
from services.survey.web import UploadSchema, accepts_upload, services
from shared.keys import require
from shared.web import Blueprint

blp = Blueprint("survey_import", __name__, url_prefix="/api/v1", description="XLSForm import of surveys")


@blp.route("/surveys/import", methods=["POST"])
@require("admin")
@accepts_upload
@blp.arguments(UploadSchema, location="files")
@blp.response(201, SurveyImportedSchema)
def import_(files):
    """Create a draft survey from an XLSForm (.xlsx, .xls, .csv in UTF-8 or GBK, .md); 400 names each row that
    cannot be mapped and why, in row order, in Chinese and English; `warnings` lists what was ignored, by row."""
    upload = files["file"]
    return import_xlsform(services(), upload.read(), upload.filename)
