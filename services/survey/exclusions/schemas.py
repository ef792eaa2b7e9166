"""Bodies of the exclusions API (issue 16): validation and the OpenAPI document."""
from marshmallow import Schema, fields, validate

from services.survey.exclusions.rules import TARGET_RE
from shared.fields import FullMatch, ReadPeriod, StrictSchema
from shared.paging import PageArgsSchema, PageFieldsSchema

REASON = validate.Length(1, 1000)
TARGET_HELP = ("response:<response_id> (a whole answer), response:<response_id>/<question id> (one rating), "
               "visit:<visit_id> (a whole visit), visit:<visit_id>/<department code> (the visit's rating of it)")


class ExclusionCreateSchema(StrictSchema):
    target = fields.String(required=True, validate=FullMatch(TARGET_RE, error=TARGET_HELP),
                           metadata={"description": TARGET_HELP})
    reason = fields.String(required=True, validate=REASON, metadata={"description": "剔除理由"})


class RestoreArgsSchema(StrictSchema):
    reason = fields.String(required=True, validate=REASON, metadata={"description": "恢复理由"})


class ExclusionQuerySchema(PageArgsSchema):
    page = fields.Integer(load_default=1, validate=validate.Range(1, 100_000))  # skip() must fit in 8 bytes
    department = fields.String(load_default=None, validate=validate.Length(1, 64))
    period = ReadPeriod(load_default=None)
    active = fields.Boolean(load_default=None, metadata={"description": "true: in force; false: restored"})


class ActorSchema(Schema):
    role = fields.String()
    name = fields.String(allow_none=True)
    key = fields.String(allow_none=True)


class ExcludedRatingSchema(Schema):
    index = fields.Integer()
    question = fields.String(allow_none=True)
    department = fields.String()


class ExclusionSchema(Schema):
    id = fields.String(attribute="_id")
    target = fields.String()
    source_id = fields.String()
    channel = fields.String()
    period = fields.String()
    whole = fields.Boolean()
    ratings = fields.List(fields.Nested(ExcludedRatingSchema))
    departments = fields.List(fields.String())
    reason = fields.String()
    appeal = fields.String(allow_none=True)
    by = fields.Nested(ActorSchema)
    created_at = fields.AwareDateTime()
    active = fields.Boolean()
    restored_at = fields.AwareDateTime(allow_none=True)
    restored_by = fields.Nested(ActorSchema, allow_none=True)
    restore_reason = fields.String(allow_none=True)


class ExclusionListSchema(PageFieldsSchema):
    exclusions = fields.List(fields.Nested(ExclusionSchema))
