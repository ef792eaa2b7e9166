"""Bodies of the survey service's API: the single source of truth for validation and OpenAPI."""
import re

from flask_smorest.fields import Upload
from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates, validates_schema

from shared.domain import CAPITALS, OWNERSHIPS, PERIOD_RE, QUESTION_TYPES, ROLES, SCALES, uscc_is_valid
from shared.paging import PageArgsSchema, PageFieldsSchema


class FullMatch(validate.Regexp):
    """Regexp over the whole value: a pattern's `$` also matches before a trailing newline, and would let
    "market\n" through. The pattern keeps `$` so that the OpenAPI document stays valid ECMA regex."""

    def __call__(self, value):
        if self.regex.fullmatch(value) is None:
            raise ValidationError(self._format_error(value))
        return value


CODE = FullMatch(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$", error="letters, digits, '_', '.', '-' (≤ 64)")
QUESTION_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,31}$")


class StrictSchema(Schema):
    class Meta:
        unknown = RAISE


class KeyCreateSchema(StrictSchema):
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    name = fields.String(required=True, validate=validate.Length(1, 100))
    department = fields.String(load_default=None)

    @validates_schema
    def department_for_department_role(self, data, **kwargs):
        if data["role"] == "department" and not data.get("department"):
            raise ValidationError("a department key needs its department code", "department")


class KeyCreatedSchema(Schema):
    id = fields.String()
    role = fields.String()
    name = fields.String()
    department = fields.String(allow_none=True)
    key = fields.String(metadata={"description": "shown only this once"})


class DepartmentSchema(StrictSchema):
    code = fields.String(required=True, validate=CODE)
    name = fields.String(required=True, validate=validate.Length(1, 100))


class DepartmentListSchema(Schema):
    departments = fields.List(fields.Nested(DepartmentSchema))


class EnterpriseSchema(StrictSchema):
    code = fields.String(required=True, metadata={"description": "统一社会信用代码 (GB 32100-2015)"})
    name = fields.String(required=True, validate=validate.Length(1, 200))
    scale = fields.String(required=True, validate=validate.OneOf(SCALES))
    ownership = fields.String(required=True, validate=validate.OneOf(OWNERSHIPS))
    capital = fields.String(required=True, validate=validate.OneOf(CAPITALS))
    township = fields.String(required=True, validate=validate.Length(1, 100))
    industry = fields.String(required=True, validate=validate.Length(1, 100))

    @validates("code")
    def check_digit(self, value, **kwargs):
        if not uscc_is_valid(value):
            raise ValidationError("not a valid 统一社会信用代码: wrong length, character or check digit")


class EnterpriseListSchema(PageFieldsSchema):
    enterprises = fields.List(fields.Nested(EnterpriseSchema))


class QuestionSchema(StrictSchema):
    id = fields.String(required=True, validate=FullMatch(QUESTION_ID))
    type = fields.String(required=True, validate=validate.OneOf(QUESTION_TYPES))
    text = fields.String(required=True, validate=validate.Length(1, 500))
    required = fields.Boolean(load_default=False)
    department = fields.String(load_default=None)
    indicator = fields.String(load_default=None, validate=CODE)
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
    period = fields.String(required=True, validate=FullMatch(PERIOD_RE, error="a quarter YYYYQn"))
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


class ImportWarningSchema(Schema):
    row = fields.Integer(allow_none=True)
    question = fields.String(allow_none=True)
    warning = fields.List(fields.String(), metadata={"description": "[Chinese, English]"})


class SurveyImportedSchema(SurveyCreatedSchema):
    warnings = fields.List(fields.Nested(ImportWarningSchema), metadata={
        "description": "what the import ignored (metadata rows, notes, appearance, other languages …), by row"})


class SurveyListSchema(PageFieldsSchema):
    surveys = fields.List(fields.Nested(SurveyCreatedSchema))


class InvitationRequestSchema(StrictSchema):
    enterprises = fields.List(fields.String(), required=True, validate=validate.Length(1, 20000))
    expires_at = fields.AwareDateTime(load_default=None)


class InvitationSchema(Schema):
    enterprise = fields.String()
    token = fields.String()
    url = fields.String()
    expires_at = fields.DateTime()


class InvitationListSchema(Schema):
    invitations = fields.List(fields.Nested(InvitationSchema))


class UploadSchema(Schema):
    file = Upload(required=True, metadata={"description": "the workbook (.xlsx) or table (.csv)"})


class ImportedSchema(Schema):
    created = fields.Integer()
    updated = fields.Integer()


class InvitationStatusSchema(Schema):
    enterprise = fields.String()
    name = fields.String()
    township = fields.String()
    token = fields.String()
    url = fields.String()
    sent_at = fields.DateTime()
    expires_at = fields.DateTime()
    opened_at = fields.DateTime(allow_none=True)
    answered_at = fields.DateTime(allow_none=True)
    status = fields.String(metadata={"description": "sent | opened | answered"})


class InvitationStatusListSchema(PageFieldsSchema):
    invitations = fields.List(fields.Nested(InvitationStatusSchema))


class InvitationFilterSchema(Schema):
    status = fields.String(load_default="all", validate=validate.OneOf(("all", "unanswered", "answered", "opened")))
    township = fields.String(load_default=None, metadata={"description": "only this township's enterprises"})


class InvitationListQuerySchema(InvitationFilterSchema, PageArgsSchema):
    pass


class InvitationSheetSchema(InvitationFilterSchema):
    # Drawing a QR code takes ~7 ms: a county-wide reminder list for SMS is quicker without them.
    qr = fields.Boolean(load_default=True, metadata={"description": "a QR code on each line (.xlsx)"})


class RateSchema(Schema):
    value = fields.String()
    invited = fields.Integer()
    opened = fields.Integer()
    answered = fields.Integer()
    response_rate = fields.Float(allow_none=True)


class ProgressSchema(Schema):
    survey_id = fields.String()
    invited = fields.Integer()
    opened = fields.Integer()
    answered = fields.Integer()
    response_rate = fields.Float(allow_none=True, metadata={"description": "answered / invited enterprises"})
    by_township = fields.List(fields.Nested(RateSchema))
    segments = fields.Dict(keys=fields.String(), values=fields.List(fields.Nested(RateSchema)),
                           metadata={"description": "per segment attribute: scale, ownership, capital, township, "
                                                    "industry"})


class ResponseBodySchema(Schema):
    """`answers` maps question ids to values; each question's own rules are checked by forms.py."""
    class Meta:
        unknown = RAISE
    token = fields.String(required=True, validate=validate.Length(1, 200))
    answers = fields.Dict(keys=fields.String(), required=True)
    reasons = fields.Dict(keys=fields.String(), load_default=None, metadata={
        "description": "optional: why, for a rating of 1–2 ({question id: text ≤ 500}); the 差评 demand carries it"})


class ResponseAcceptedSchema(Schema):
    response_id = fields.String()
