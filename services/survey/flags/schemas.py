"""The flags list (issue 16): its query and what each flag shows the administrator."""
from datetime import UTC

from marshmallow import Schema, fields, validate

from services.survey.flags.rules import KINDS
from shared.fields import CODE, ReadPeriod
from shared.paging import PageArgsSchema, PageFieldsSchema


class FlagQuerySchema(PageArgsSchema):
    page = fields.Integer(load_default=1, validate=validate.Range(1, 100_000))  # skip() must fit in 8 bytes
    kind = fields.String(load_default=None, validate=validate.OneOf(KINDS))
    department = fields.String(load_default=None, validate=CODE)
    survey = fields.String(load_default=None, validate=validate.Length(1, 64))
    period = ReadPeriod(load_default=None)
    from_ = fields.AwareDateTime(data_key="from", load_default=None, default_timezone=UTC,
                                 metadata={"description": "flags about what happened at or after this moment"})
    to = fields.AwareDateTime(load_default=None, default_timezone=UTC, metadata={"description": "… before this moment"})


class RefSchema(Schema):
    kind = fields.String(metadata={"description": "response | visit"})
    id = fields.String()


class FlagSchema(Schema):
    id = fields.String(attribute="_id")
    kind = fields.String(metadata={"description": " | ".join(KINDS)})
    reason = fields.String(metadata={"description": "why, in Chinese"})
    figures = fields.Dict(metadata={"description": "the figures behind the flag"})
    thresholds = fields.Dict(metadata={"description": "the thresholds it was held to (MANYI_FLAG_*)"})
    refs = fields.List(fields.Nested(RefSchema), metadata={"description": "the answers and visits it is about"})
    departments = fields.List(fields.String())
    survey = fields.String(allow_none=True)
    period = fields.String(allow_none=True)
    enterprise = fields.String(allow_none=True)
    cadre = fields.String(allow_none=True, metadata={"description": "the cadre's key id (cadre_* kinds)"})
    township = fields.String(allow_none=True)
    at = fields.DateTime(metadata={"description": "when what it is about happened (accepted, visited, the hour)"})
    created_at = fields.DateTime()
    updated_at = fields.DateTime(allow_none=True)


class FlagListSchema(PageFieldsSchema):
    flags = fields.List(fields.Nested(FlagSchema))
