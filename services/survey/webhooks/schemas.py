"""Bodies of the webhook subscriptions API (issue 17): validation and the OpenAPI document."""
from marshmallow import Schema, fields, validate

from shared.fields import StrictSchema
from shared.webhooks import EVENTS

EVENT_NAMES = validate.OneOf(sorted(EVENTS), error="unknown event; GET /api/v1/webhooks/events lists them")
URL_HELP = "http(s) URL that receives the POSTs; loopback, link-local and metadata addresses are refused"


def url_field(**kwargs):
    return fields.String(validate=validate.Length(1, 2000), metadata={"description": URL_HELP}, **kwargs)


def events_field(**kwargs):
    return fields.List(fields.String(validate=EVENT_NAMES), validate=validate.Length(1, len(EVENTS)), **kwargs)


class WebhookCreateSchema(StrictSchema):
    url = url_field(required=True)
    events = events_field(required=True)
    description = fields.String(load_default="", validate=validate.Length(max=500))


class WebhookPatchSchema(StrictSchema):
    url = url_field()
    events = events_field()
    description = fields.String(validate=validate.Length(max=500))
    status = fields.String(validate=validate.OneOf(("active", "paused")),
                           metadata={"description": "paused: events are kept as pending deliveries, not sent"})


class WebhookSchema(Schema):
    id = fields.String()
    url = fields.String()
    events = fields.List(fields.String())
    description = fields.String()
    status = fields.String(metadata={"description": "active or paused"})
    paused_reason = fields.String(allow_none=True, metadata={"description": "why it was paused (automatically or by whom)"})
    paused_at = fields.DateTime(allow_none=True)
    failing_since = fields.DateTime(allow_none=True, metadata={"description": "first failure of the current streak"})
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    deliveries = fields.Dict(metadata={"description": "counts by status, and the oldest pending one's time"})


class WebhookCreatedSchema(WebhookSchema):
    secret = fields.String(metadata={"description": "the signing secret, shown only in this answer"})


class WebhookListSchema(Schema):
    webhooks = fields.List(fields.Nested(WebhookSchema))


class EventKindSchema(Schema):
    name = fields.String()
    description = fields.String()
    fields_ = fields.List(fields.String(), data_key="fields")
    schema_version = fields.Integer()


class EventCatalogueSchema(Schema):
    events = fields.List(fields.Nested(EventKindSchema))


class DeliveryQuerySchema(Schema):
    status = fields.String(load_default=None, validate=validate.OneOf(("pending", "delivered", "failed")))
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 500))
    cursor = fields.String(load_default=None, metadata={"description": "`next` of the previous page"})


class DeliverySchema(Schema):
    id = fields.String(metadata={"description": "also the Manyi-Delivery header: the receiver's idempotency key"})
    event = fields.String()
    event_id = fields.String()
    status = fields.String(metadata={"description": "pending, delivered or failed"})
    attempts = fields.Integer()
    last_code = fields.Integer(allow_none=True, metadata={"description": "HTTP status of the last try (null: no answer)"})
    last_error = fields.String(allow_none=True)
    last_attempt_at = fields.DateTime(allow_none=True)
    next_attempt_at = fields.DateTime(allow_none=True)
    delivered_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()
    payload = fields.Dict(metadata={"description": "the body POSTed (one delivery only)"})


class DeliveryListSchema(Schema):
    deliveries = fields.List(fields.Nested(DeliverySchema))
    next = fields.String(allow_none=True, metadata={"description": "cursor of the next (older) page; null at the end"})


class BulkRedeliverSchema(StrictSchema):
    status = fields.String(load_default="failed", validate=validate.OneOf(("failed",)))


class RedeliveredSchema(Schema):
    redelivered = fields.Integer()


class PingSchema(Schema):
    delivery = fields.String()
