"""Queries and bodies of the raw-answer and comment endpoints (the OpenAPI document is built from these)."""
from marshmallow import Schema, fields, validate

from shared.domain import CAPITALS, OWNERSHIPS, SCALES
from shared.fields import CODE, FullMatch, Period

MAX_LIMIT = 1000


class PageQuerySchema(Schema):
    limit = fields.Integer(load_default=100, validate=validate.Range(1, MAX_LIMIT),
                           metadata={"description": f"answers per page, at most {MAX_LIMIT}"})
    cursor = fields.String(load_default=None, validate=FullMatch(r"^[0-9a-f]{1,64}$"),
                           metadata={"description": "`next_cursor` of the previous page (opaque)"})


class ResponseFilterSchema(Schema):
    since = fields.AwareDateTime(load_default=None, metadata={"description": "submitted at or after"})
    until = fields.AwareDateTime(load_default=None, metadata={"description": "submitted before"})
    township = fields.String(load_default=None, validate=validate.Length(1, 100))
    scale = fields.String(load_default=None, validate=validate.OneOf(SCALES))
    ownership = fields.String(load_default=None, validate=validate.OneOf(OWNERSHIPS))
    capital = fields.String(load_default=None, validate=validate.OneOf(CAPITALS))
    industry = fields.String(load_default=None, validate=validate.Length(1, 100))
    has_text = fields.Boolean(load_default=None, metadata={"description": "with (true) or without (false) a text "
                                                                          "answer among the questions shown"})
    department = fields.String(load_default=None, validate=CODE, metadata={
        "description": "only answers about this department: its ratings and the comments the comment rule gives it"})
    level = fields.Integer(load_default=None, validate=validate.Range(1, 5), metadata={
        "description": "only answers with a rating at or below this level (of `department` when given); 2 = 差评"})


class ResponseQuerySchema(PageQuerySchema, ResponseFilterSchema):
    pass


class AnswerItemSchema(Schema):
    question = fields.String()
    number = fields.Integer(metadata={"description": "the question's number in the survey"})
    text = fields.String(metadata={"description": "the question as asked"})
    type = fields.String()
    value = fields.Raw(metadata={"description": "as submitted: level, score, option, list of options or text"})
    label = fields.String(metadata={"description": "in words: 非常满意, the options chosen joined by 、, the text"})


class IdentitySchema(Schema):
    code = fields.String()
    name = fields.String()
    scale = fields.String()
    ownership = fields.String()
    capital = fields.String()
    township = fields.String()
    industry = fields.String()


class ResponseOutSchema(Schema):
    id = fields.String()
    survey_id = fields.String()
    submitted_at = fields.DateTime()
    enterprise = fields.Nested(IdentitySchema, allow_none=True, metadata={
        "description": "null when the key may not see which enterprise answered (department keys)"})
    answers = fields.List(fields.Nested(AnswerItemSchema))


class ResponsePageSchema(Schema):
    responses = fields.List(fields.Nested(ResponseOutSchema))
    limit = fields.Integer()
    next_cursor = fields.String(allow_none=True, metadata={"description": "null on the last page"})


class CommentQuerySchema(PageQuerySchema):
    period = Period(required=True)


class CommentSchema(Schema):
    channel = fields.String(metadata={"description": "survey | visit"})
    source_id = fields.String()
    survey_id = fields.String(allow_none=True)
    question = fields.String(allow_none=True)
    question_text = fields.String(allow_none=True)
    level = fields.Integer(allow_none=True, metadata={"description": "the enterprise's rating of the department "
                                                                     "beside this comment, when it gave one"})
    text = fields.String()
    submitted_at = fields.DateTime()
    enterprise = fields.Nested(IdentitySchema, allow_none=True)


class CommentPageSchema(Schema):
    department = fields.String()
    period = fields.String()
    comments = fields.List(fields.Nested(CommentSchema))
    limit = fields.Integer()
    next_cursor = fields.String(allow_none=True)


class OptionCountSchema(Schema):
    option = fields.String()
    count = fields.Integer()
    share = fields.Float(allow_none=True, metadata={"description": "count / enterprises that answered the question"})


class ChoiceQuestionSchema(Schema):
    question = fields.String()
    number = fields.Integer()
    text = fields.String()
    type = fields.String()
    answered = fields.Integer()
    options = fields.List(fields.Nested(OptionCountSchema))


class ChoiceCountsSchema(Schema):
    survey_id = fields.String()
    responses = fields.Integer()
    questions = fields.List(fields.Nested(ChoiceQuestionSchema))
