"""Survey definitions (DESIGN §3): validation and the OpenAPI document."""
import re

from marshmallow import Schema, ValidationError, fields, validate, validates, validates_schema

from shared.domain import QUESTION_TYPES
from shared.fields import CODE, FullMatch, Period, StrictSchema
from shared.paging import PageFieldsSchema

QUESTION_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,31}$")


class QuestionSchema(StrictSchema):
    id = fields.String(required=True, validate=FullMatch(QUESTION_ID))
    type = fields.String(required=True, validate=validate.OneOf(QUESTION_TYPES))
    text = fields.String(required=True, validate=validate.Length(1, 500))
    required = fields.Boolean(load_default=False)
    department = fields.String(load_default=None)
    indicator = fields.String(load_default=None, validate=CODE)
    indicator_name = fields.String(validate=validate.Length(1, 100), metadata={
        "description": "what the dashboard and reports call the indicator; default: the question's text"})
    weight = fields.Float(load_default=1.0, validate=validate.Range(min=0, min_inclusive=False, max=100))
    options = fields.List(fields.String(validate=validate.Length(1, 200)), load_default=None)
    show_if = fields.Dict(keys=fields.String(), load_default=None)
    max_length = fields.Integer(load_default=2000, validate=validate.Range(1, 10000))
    hint = fields.String(validate=validate.Length(1, 500),
                         metadata={"description": "shown under the question (XLSForm hint)"})
    required_message = fields.String(validate=validate.Length(1, 200), metadata={
        "description": "said when a required question is left blank (XLSForm required_message)"})

    @validates_schema
    def fields_of_type(self, q, **kwargs):
        if q["type"] == "rating5":
            if not q.get("department"):
                raise ValidationError("a rating5 question names the department it rates", "department")
            q["indicator"] = q.get("indicator") or "general"
        if q["type"] in ("single", "multi"):
            opts = q.get("options") or []
            if len(opts) < 2 or len(set(opts)) != len(opts):
                raise ValidationError("needs two or more distinct options", "options")
        elif q.get("options") is not None:
            raise ValidationError(f"a {q['type']} question has no options", "options")


class SurveyDefinitionSchema(StrictSchema):
    code = fields.String(required=True, validate=CODE)
    title = fields.String(required=True, validate=validate.Length(1, 200))
    period = Period(required=True)
    scale = fields.Dict(keys=fields.String(), values=fields.Float(validate=validate.Range(0, 100)),
                        load_default=None)
    questions = fields.List(fields.Nested(QuestionSchema), required=True, validate=validate.Length(1, 200))

    @validates("scale")
    def five_levels(self, scale, **kwargs):
        if scale is None:
            return
        if sorted(scale) != ["1", "2", "3", "4", "5"]:
            raise ValidationError("maps exactly the levels 1–5 to points")
        if any(scale[str(lv)] > scale[str(lv + 1)] for lv in range(1, 5)):
            raise ValidationError("points must not fall as the level rises")


class SurveySchema(SurveyDefinitionSchema):
    id = fields.String(dump_only=True)
    version = fields.Integer(dump_only=True)
    status = fields.String(dump_only=True)


class SurveyCreatedSchema(Schema):
    id = fields.String()
    code = fields.String()
    version = fields.Integer()
    status = fields.String()


class SurveyListSchema(PageFieldsSchema):
    surveys = fields.List(fields.Nested(SurveyCreatedSchema))


class ImportWarningSchema(Schema):
    row = fields.Integer(allow_none=True)
    question = fields.String(allow_none=True)
    warning = fields.List(fields.String(), metadata={"description": "[Chinese, English]"})


class SurveyImportedSchema(SurveyCreatedSchema):
    warnings = fields.List(fields.Nested(ImportWarningSchema), metadata={
        "description": "what the import ignored (metadata rows, notes, appearance, other languages …), by row"})
