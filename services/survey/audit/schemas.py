"""Bodies of the audit log's endpoints."""
from marshmallow import Schema, fields, validate

from services.survey.audit.records import ACTIONS
from shared.paging import PageArgsSchema, PageFieldsSchema


class AuditExportQuerySchema(Schema):
    """The filters (the list's and the export's)."""
    action = fields.String(load_default=None, validate=validate.OneOf(tuple(ACTIONS)))
    actor = fields.String(load_default=None, validate=validate.Length(1, 200),
                          metadata={"description": "a key's id or name"})
    target = fields.String(load_default=None, validate=validate.Length(1, 300))
    from_ = fields.AwareDateTime(load_default=None, data_key="from", attribute="from")
    to = fields.AwareDateTime(load_default=None)


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
