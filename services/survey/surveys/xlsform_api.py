"""`POST /api/v1/surveys/import`: an XLSForm workbook becomes a draft survey (mapping in services/survey/xlsform.py)."""
from flask_smorest import Blueprint, abort
from marshmallow import ValidationError

from services.survey.schemas import SurveyDefinitionSchema, SurveyImportedSchema, UploadSchema
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
    return {k: out[k] for k in sorted(out, key=xlsform.row_order)}


@blp.route("/surveys/import", methods=["POST"])
@require("admin")
@accepts_upload
@blp.arguments(UploadSchema, location="files")
@blp.response(201, SurveyImportedSchema)
def import_(files):
    """Create a draft survey from an XLSForm (.xlsx, .xls, .csv in UTF-8 or GBK, .md); 400 names each row that
    cannot be mapped and why, in row order, in Chinese and English; `warnings` lists what was ignored."""
    upload, warnings = files["file"], []
    try:
        form, rows = xlsform.parse(upload.read(), upload.filename)
        definition = xlsform.definition_of(form, rows, warnings)
    except xlsform.XLSFormRefused as refused:
        abort(400, message=refused.message, errors=refused.errors)
    try:
        body = SurveyDefinitionSchema().load(definition)
    except ValidationError as invalid:
        abort(400, message="the survey in the workbook is not valid", errors=bilingual(invalid.messages, definition, rows))
    known = {d["_id"] for d in services().store.departments.find({}, {"_id": 1})}
    problems = forms.check_definition(body["questions"], known)
    if problems:
        abort(400, message="some questions are not valid", errors=by_row(problems, body["questions"], rows))
    return {**summary(insert_version(body)), "warnings": warnings}


FIELD_NAMES = {"code": ("问卷代码（settings 表的 form_id，或文件名）", "survey code (settings form_id, or the file name)"),
               "title": ("问卷标题（settings 表的 form_title）", "title (settings form_title)"),
               "period": ("期间（settings 表的 period，如 2026Q4）", "period (settings period, e.g. 2026Q4)")}


def bilingual(messages, definition, rows):
    """Schema errors of the mapped definition in Chinese and English, questions by row, rows in order."""
    errors = {}
    for field, problem in messages.items():
        if field == "questions" and isinstance(problem, dict):
            continue
        zh, en = FIELD_NAMES.get(field, (field, field))
        errors[field] = [f"{zh}无效：{problem}", f"{en} is not valid: {problem}"]
    if isinstance(messages.get("questions"), dict):
        per_row = by_row(messages["questions"], definition["questions"], rows)
        errors.update({k: [f"第 {k[4:]} 行：题目设置无效 {v}" if k.startswith("row") else f"{k}：题目设置无效 {v}",
                           f"{k}: not a valid question {v}"] for k, v in sorted(per_row.items(), key=lambda kv:
                                                                                   xlsform.row_order(kv[0]))})
    return errors
