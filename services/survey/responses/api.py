"""Raw answers (`/surveys/{id}/responses`, `.csv`, `.xlsx`), option counts, and comments per department.

Administrators read everything; a department key reads only the answers about its own department (its
ratings and the comments the comment rule gives it, see rules.py), without the enterprise's identity
(identity.py decides), and may not narrow answers down by segment attributes, which would single out
enterprises just as surely.
"""
from urllib.parse import urlencode

from flask import Response, g, request, stream_with_context

from services.survey.responses import comments as found
from services.survey.responses import export, reading, rules
from services.survey.responses.schemas import (
    ChoiceCountsSchema,
    CommentPageSchema,
    CommentQuerySchema,
    ResponseFilterSchema,
    ResponsePageSchema,
    ResponseQuerySchema,
)
from services.survey.surveys.use_cases import survey_or_404 as find_survey
from services.survey.web import services
from shared.domain import SEGMENT_ATTRIBUTES
from shared.errors import Forbidden, pair
from shared.keys import require
from shared.sheets import content_disposition
from shared.web import Blueprint

blp = Blueprint("responses_read", __name__, url_prefix="/api/v1", description="Raw answers and comments")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def scoped(query, key):
    """The query as `key` may ask it: a department key is held to its department, without segment filters."""
    if key["role"] != "department":
        return query
    if query.get("department") not in (None, key["department"]):
        raise Forbidden("a department key reads only answers about its own department",
                        {"department": pair("只能查看本单位的评价", "only your own department")})
    narrowed = [a for a in SEGMENT_ATTRIBUTES if query.get(a)]
    if narrowed:
        raise Forbidden("a department key may not narrow answers down by enterprise attributes",
                        {a: pair("部门账号不能按企业属性筛选答卷", "not for department keys") for a in narrowed})
    return {**query, "department": key["department"]}


def next_link(cursor):
    args = {k: v for k, v in request.args.items() if k != "cursor"}
    return f'<{request.base_url}?{urlencode({**args, "cursor": cursor})}>; rel="next"'


@blp.route("/surveys/<survey_id>/responses", methods=["GET"])
@require("admin", "department")
@blp.arguments(ResponseQuerySchema, location="query")
@blp.response(200, ResponsePageSchema)
def list_(query, survey_id):
    """A survey's answers, a page at a time (`next_cursor`, also in a `Link: rel="next"` header)."""
    survey = find_survey(services(), survey_id)
    out, cursor = reading.listed(services().archive, survey, scoped(query, g.api_key), g.api_key)
    headers = {"Link": next_link(cursor)} if cursor else {}
    return {"responses": out, "limit": query["limit"], "next_cursor": cursor}, 200, headers


def file_names(survey, extension):
    return (f"{survey['title']}-原始答卷-{survey['period']}.{extension}",
            f"responses-{survey['code']}-v{survey['version']}-{survey['period']}.{extension}")


@blp.route("/surveys/<survey_id>/responses.csv", methods=["GET"])
@require("admin", "department")
@blp.arguments(ResponseFilterSchema, location="query")
@blp.response(200, description="every matching answer as CSV (UTF-8 with BOM), streamed")
def export_csv(query, survey_id):
    """The answers as CSV: one row per answer, one column per question (multi-choice: one per option)."""
    survey = find_survey(services(), survey_id)
    table = export.Table(services().archive, survey, scoped(query, g.api_key), g.api_key)
    return Response(stream_with_context(export.csv_chunks(table)), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": content_disposition(*file_names(survey, "csv"))})


@blp.route("/surveys/<survey_id>/responses.xlsx", methods=["GET"])
@require("admin", "department")
@blp.arguments(ResponseFilterSchema, location="query")
@blp.response(200, description="every matching answer as an .xlsx workbook, ready to print")
def export_xlsx(query, survey_id):
    """The answers as .xlsx, laid out as the CSV under a title row with the period and generation time."""
    survey = find_survey(services(), survey_id)
    table = export.Table(services().archive, survey, scoped(query, g.api_key), g.api_key)
    title = f"{survey['title']} 原始答卷（{survey['period']}）"
    return Response(export.file_chunks(export.xlsx_file(table, title)), mimetype=XLSX,
                    headers={"Content-Disposition": content_disposition(*file_names(survey, "xlsx"))})


@blp.route("/surveys/<survey_id>/choices", methods=["GET"])
@require("admin")
@blp.response(200, ChoiceCountsSchema)
def choices(survey_id):
    """How often each option of each single- and multi-choice question was chosen (希望改进的方面: 速度 41% …)."""
    survey = find_survey(services(), survey_id)
    asked = [q for q in survey["questions"] if q["type"] in ("single", "multi")]
    counts = {q["id"]: dict.fromkeys(q["options"], 0) for q in asked}
    answered = dict.fromkeys(counts, 0)
    total = 0
    for doc in services().archive.chosen(survey_id, list(counts)):
        total += 1
        for qid, value in (doc.get("answers") or {}).items():
            if qid in counts:
                answered[qid] += 1
                for option in (value if isinstance(value, list) else [value]):
                    if option in counts[qid]:
                        counts[qid][option] += 1
    numbers = rules.numbers_of(survey["questions"])
    return {"survey_id": survey_id, "responses": total, "questions": [
        {"question": q["id"], "number": numbers[q["id"]], "text": q["text"], "type": q["type"],
         "answered": answered[q["id"]],
         "options": [{"option": o, "count": c, "share": c / answered[q["id"]] if answered[q["id"]] else None}
                     for o, c in counts[q["id"]].items()]} for q in asked]}


@blp.route("/departments/<code>/comments", methods=["GET"])
@require("admin", "department")
@blp.arguments(CommentQuerySchema, location="query")
@blp.response(200, CommentPageSchema)
def comments(query, code):
    """What enterprises wrote about a department in a period: survey comments (by the comment rule) and the
    comments on visit ratings; paged by `cursor` over answers and visits (`limit` of them per page)."""
    key = g.api_key
    if key["role"] == "department" and key["department"] != code:
        raise Forbidden("a department key reads only its own department's comments",
                        {"department": pair("只能查看本单位的评价", "only your own department")})
    items, cursor = found.page(services().archive, key, code, query)
    headers = {"Link": next_link(cursor)} if cursor else {}
    return {"department": code, "period": query["period"], "comments": items, "limit": query["limit"],
            "next_cursor": cursor}, 200, headers
