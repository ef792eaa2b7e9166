"""`GET /api/v1/choices?period=P`: how often each option of each single- and multi-choice question was chosen
(希望改进的方面: 速度 41% …), and the report's 选项统计 sheet built from the same figures.

Fed by the `choices` that `response.submitted` carries, counted by the scoring worker (`manyi_scores.
choice_counts`, shared/choice_figures.py); a question answered by fewer than MANYI_MIN_N enterprises shows no
counts. Live for admin keys, the period's release for portal keys, as every gateway figure.
"""
from marshmallow import Schema, fields

from gateway.api import READERS, reading
from gateway.reports import COUNT, RATE, SUPPRESSED, Sheet
from gateway.schemas import PeriodQuerySchema, ReleaseMarkSchema
from shared.keys import require
from shared.web import Blueprint

blp = Blueprint("choices", __name__, url_prefix="/api/v1", description="Option counts of choice questions (portal, admin)")
TYPE_NAMES = {"single": "单选", "multi": "多选"}


class OptionCountSchema(Schema):
    option = fields.String()
    count = fields.Integer(allow_none=True, metadata={"description": "null while the question is suppressed"})
    share = fields.Float(allow_none=True, metadata={
        "description": "of the enterprises that answered the question (multi-choice shares add up to more than 1)"})


class QuestionChoicesSchema(Schema):
    period = fields.String(metadata={"description": "the quarter of the survey"})
    survey = fields.String(metadata={"description": "the survey's id"})
    survey_title = fields.String(allow_none=True)
    question = fields.String()
    number = fields.Integer(metadata={"description": "the question's number as respondents saw it"})
    text = fields.String()
    type = fields.String(metadata={"description": "single or multi"})
    answered = fields.Integer(metadata={"description": "enterprises that answered the question"})
    suppressed = fields.Boolean(metadata={"description": "fewer than MANYI_MIN_N answered: no counts"})
    options = fields.List(fields.Nested(OptionCountSchema))


class ChoicesSchema(ReleaseMarkSchema):
    period = fields.String()
    questions = fields.List(fields.Nested(QuestionChoicesSchema))


@blp.route("/choices", methods=["GET"])
@require(*READERS)
@blp.arguments(PeriodQuerySchema, location="query")
@blp.response(200, ChoicesSchema)
def choices(query):
    """Per single- and multi-choice question of the period's surveys (a year: its quarters'): how many
    enterprises answered it and how many chose each option."""
    figs, mark = reading(query["period"], query["release"])
    return {"period": query["period"], **mark, "questions": figs.choices(query["period"])}


def choice_sheet(figs, period):
    """The report's 选项统计 sheet: one row per option of each question, as the endpoint serves them."""
    rows = []
    for q in figs.choices(period):
        for o in q["options"]:
            rows.append([q["period"], q["survey_title"] or q["survey"], q["number"], q["text"],
                         TYPE_NAMES.get(q["type"], q["type"]), o["option"], o["count"], o["share"], q["answered"],
                         SUPPRESSED if q["suppressed"] else None])
    columns = [("季度", None), ("问卷", None), ("题号", COUNT), ("题目", None), ("题型", None), ("选项", None),
               ("选择企业数", COUNT), ("占作答企业", RATE), ("作答企业数", COUNT), ("说明", None)]
    return Sheet("选项统计", columns, rows)
