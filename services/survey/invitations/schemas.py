"""Bodies of the invitations API: sending links, following them up."""
from marshmallow import Schema, fields, validate

from shared.domain import SEGMENT_ATTRIBUTES
from shared.fields import StrictSchema
from shared.paging import PageArgsSchema, PageFieldsSchema


class InvitationRequestSchema(StrictSchema):
    enterprises = fields.List(fields.String(), required=True, validate=validate.Length(1, 20000))
    expires_at = fields.AwareDateTime(load_default=None)


SHOWN_AGAIN = "null when the link cannot be shown again (no token key): invite again for a new one"


class InvitationSchema(Schema):
    enterprise = fields.String()
    token = fields.String(allow_none=True, metadata={"description": SHOWN_AGAIN})
    url = fields.String(allow_none=True, metadata={"description": SHOWN_AGAIN})
    expires_at = fields.DateTime()


class InvitationListSchema(Schema):
    invitations = fields.List(fields.Nested(InvitationSchema))


class InvitationStatusSchema(Schema):
    enterprise = fields.String()
    name = fields.String()
    township = fields.String()
    id = fields.String(metadata={"description": "the invitation's id (the token's SHA-256): names it in the QR routes"})
    token = fields.String(allow_none=True, metadata={"description": SHOWN_AGAIN})
    url = fields.String(allow_none=True, metadata={"description": SHOWN_AGAIN})
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
                           metadata={"description": "per segment attribute: " + ", ".join(SEGMENT_ATTRIBUTES)})
