"""Bodies of the appeals API (申诉复核)."""
from marshmallow import Schema, fields, validate

from services.survey.appeals.rules import DECISIONS, STATUSES
from shared.fields import StrictSchema
from shared.paging import PageArgsSchema, PageFieldsSchema

TEXT = validate.Length(1, 2000)


class AppealCreateSchema(StrictSchema):
    demand = fields.String(required=True, validate=validate.Length(1, 64),
                           metadata={"description": "the id of the 差评's `bad_rating` demand (one per rating)"})
    reason = fields.String(required=True, validate=TEXT, metadata={"description": "申诉理由"})


class DecisionSchema(StrictSchema):
    decision = fields.String(required=True, validate=validate.OneOf(DECISIONS),
                             metadata={"description": "upheld: the rating is excluded and the 差评 demand closes "
                                                      "(申诉成立); rejected: nothing changes"})
    note = fields.String(load_default=None, validate=TEXT)


class AppealQuerySchema(PageArgsSchema):
    page = fields.Integer(load_default=1, validate=validate.Range(1, 100_000))  # skip() must fit in 8 bytes
    status = fields.String(load_default=None, validate=validate.OneOf(STATUSES))
    department = fields.String(load_default=None, validate=validate.Length(1, 64))
    period = fields.String(load_default=None, validate=validate.Regexp(r"\A\d{4}(Q[1-4])?\Z"),
                           metadata={"description": "a quarter YYYYQn or a year YYYY (its four quarters)"})


class AppealedRatingSchema(Schema):
    level = fields.Integer(allow_none=True)
    subject = fields.String(allow_none=True, metadata={"description": "the question's text, or the department "
                                                                      "rated in a visit"})
    comment = fields.String(allow_none=True)
    at = fields.DateTime(allow_none=True, metadata={"description": "when it arrived; the day only (00:00 "
                                                                   "Asia/Shanghai) when anonymous"})
    kind = fields.String(allow_none=True, metadata={"description": "response or visit"})
    question = fields.String(allow_none=True)
    survey = fields.String(allow_none=True)
    enterprise = fields.String(allow_none=True, metadata={
        "description": "null for a department key when the enterprise did not consent (contact_ok)"})
    anonymous = fields.Boolean()


class AppealActorSchema(Schema):
    role = fields.String()
    name = fields.String(allow_none=True)


class AppealSchema(Schema):
    id = fields.String(attribute="_id")
    demand = fields.String()
    department = fields.String()
    period = fields.String()
    reason = fields.String()
    status = fields.String(metadata={"description": "pending, upheld or rejected"})
    filed_at = fields.DateTime()
    filed_by = fields.Nested(AppealActorSchema)
    decided_at = fields.DateTime(allow_none=True)
    decided_by = fields.Nested(AppealActorSchema, allow_none=True)
    note = fields.String(allow_none=True)
    exclusion = fields.Raw(allow_none=True, metadata={"description": "the exclusion an upheld appeal made"})
    rating = fields.Nested(AppealedRatingSchema, allow_none=True)
    demand_status = fields.String(allow_none=True)
    deadline = fields.DateTime(metadata={"description": "the last moment the 差评 could be appealed"})


class AppealListSchema(PageFieldsSchema):
    appeals = fields.List(fields.Nested(AppealSchema))
