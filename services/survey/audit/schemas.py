"""Bodies of the audit log's endpoints."""
from datetime import UTC, datetime

from marshmallow import Schema, fields, validate

from services.survey.audit.records import ACTIONS
from shared.paging import PageArgsSchema, PageFieldsSchema

# Year 1 or 9999 with an offset does not fit a BSON date once moved to UTC: a typo or a probe, refused as 400.
MOMENT = validate.Range(datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC),
                        error="须在 2000–2100 年之间 / must lie between 2000 and 2100")


class AuditExportQuerySchema(Schema):
    """The filters (the list's and the export's)."""
    action = fields.String(load_default=None, validate=validate.OneOf(tuple(ACTIONS)))
    actor = fields.String(load_default=None, validate=validate.Length(1, 200),
                          metadata={"description": "a key's id or name"})
    target = fields.String(load_default=None, validate=validate.Length(1, 300))
    from_ = fields.AwareDateTime(load_default=None, data_key="from", attribute="from", validate=MOMENT)
    to = fields.AwareDateTime(load_default=None, validate=MOMENT)


class AuditQuerySchema(PageArgsSchema, AuditExportQuerySchema):
    page = fields.Integer(load_default=1, validate=validate.Range(1, 100_000))  # skip() must fit in 8 bytes


class AuditActorSchema(Schema):
    key = fields.String(allow_none=True, metadata={"description": "the key's id (never the key itself)"})
    name = fields.String(allow_none=True)
    role = fields.String()


class AuditEntrySchema(Schema):
    id = fields.String(attribute="_id")
    at = fields.DateTime()
    actor = fields.Nested(AuditActorSchema)
    action = fields.String(metadata={"description": ", ".join(ACTIONS)})
    target = fields.String()
    why = fields.String(allow_none=True, metadata={"description": "the reason or note given"})
    details = fields.Dict()


class AuditListSchema(PageFieldsSchema):
    entries = fields.List(fields.Nested(AuditEntrySchema))
