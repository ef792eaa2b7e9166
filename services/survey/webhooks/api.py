"""Webhook subscriptions (issue 17, admin): create (the signing secret shown once), read, change, delete,
ping, and the deliveries with their redelivery. The delivery worker (services/delivery) does the sending."""
from flask import g

from services.survey.web import services
from services.survey.webhooks import store
from services.survey.webhooks.schemas import (
    BulkRedeliverSchema,
    DeliveryListSchema,
    DeliveryQuerySchema,
    DeliverySchema,
    EventCatalogueSchema,
    PingSchema,
    RedeliveredSchema,
    WebhookCreatedSchema,
    WebhookCreateSchema,
    WebhookListSchema,
    WebhookPatchSchema,
    WebhookSchema,
)
from shared.egress import url_problem
from shared.errors import Invalid, NotFound, pair
from shared.keys import require
from shared.web import Blueprint
from shared.webhooks import EVENTS, SCHEMA_VERSION

blp = Blueprint("webhooks", __name__, url_prefix="/api/v1", description="Webhooks: signed event deliveries (admin)")


def check_url(url):
    problem = url_problem(url, services().config.webhook_allow_private)
    if problem:
        raise Invalid(f"this URL cannot receive webhooks: {problem}",
                      {"url": pair("只能是 http(s) 地址，且不能指向本机、链路本地或云元数据地址", problem)})


def subscription_or_404(db, subscription_id):
    doc = store.subscription(db, subscription_id)
    if doc is None:
        raise NotFound(f"no webhook {subscription_id}", {"subscription_id": pair("订阅不存在", "unknown webhook")})
    return doc


@blp.route("/webhooks/events", methods=["GET"])
@require("admin")
@blp.response(200, EventCatalogueSchema)
def catalogue():
    """The events one can subscribe to, with the fields of each one's `data`."""
    return {"events": [{"name": name, "description": text, "fields_": names, "schema_version": SCHEMA_VERSION}
                       for name, (text, names) in EVENTS.items()]}


@blp.route("/webhooks", methods=["POST"])
@require("admin")
@blp.arguments(WebhookCreateSchema)
@blp.response(201, WebhookCreatedSchema)
def create(body):
    """Subscribe a URL to events; the answer holds the signing secret, shown only this once."""
    check_url(body["url"])
    doc = store.create(store.webhook_db(), body, {"name": g.api_key.get("name"), "key": g.api_key.get("_id")})
    return {**store.subscription_out(doc), "secret": doc["secret"]}


@blp.route("/webhooks", methods=["GET"])
@require("admin")
@blp.response(200, WebhookListSchema)
def list_():
    return {"webhooks": [store.subscription_out(d) for d in store.subscriptions(store.webhook_db())]}


@blp.route("/webhooks/<subscription_id>", methods=["GET"])
@require("admin")
@blp.response(200, WebhookSchema)
def get(subscription_id):
    """One subscription with its deliveries counted by status and the oldest pending one's time."""
    db = store.webhook_db()
    return store.subscription_out(subscription_or_404(db, subscription_id), store.delivery_counts(db, subscription_id))


@blp.route("/webhooks/<subscription_id>", methods=["PATCH"])
@require("admin")
@blp.arguments(WebhookPatchSchema)
@blp.response(200, WebhookSchema)
def patch(body, subscription_id):
    """Pause or resume (`status`), change the events, URL or description."""
    if "url" in body:
        check_url(body["url"])
    doc = store.change(store.webhook_db(), subscription_id, body, g.api_key)
    if doc is None:
        raise NotFound(f"no webhook {subscription_id}", {"subscription_id": pair("订阅不存在", "unknown webhook")})
    return store.subscription_out(doc)


@blp.route("/webhooks/<subscription_id>", methods=["DELETE"])
@require("admin")
@blp.response(204)
def delete(subscription_id):
    """Unsubscribe; its deliveries go with it."""
    if not store.delete(store.webhook_db(), subscription_id):
        raise NotFound(f"no webhook {subscription_id}", {"subscription_id": pair("订阅不存在", "unknown webhook")})


@blp.route("/webhooks/<subscription_id>/ping", methods=["POST"])
@require("admin")
@blp.response(202, PingSchema)
def ping(subscription_id):
    """Send a signed `ping` event; follow it in the deliveries."""
    db = store.webhook_db()
    subscription_or_404(db, subscription_id)
    return {"delivery": store.ping(db, subscription_id)}


@blp.route("/webhooks/<subscription_id>/deliveries", methods=["GET"])
@require("admin")
@blp.arguments(DeliveryQuerySchema, location="query")
@blp.response(200, DeliveryListSchema)
def deliveries(query, subscription_id):
    """Deliveries, newest first (status, tries, last answer), paged with `cursor`."""
    db = store.webhook_db()
    subscription_or_404(db, subscription_id)
    try:
        items, cursor = store.page(db, subscription_id, query["status"], query["limit"], query["cursor"])
    except ValueError:
        raise Invalid("bad cursor", {"cursor": pair("游标无效", "not a cursor this API gave")}) from None
    return {"deliveries": items, "next": cursor}


@blp.route("/webhooks/<subscription_id>/deliveries/<delivery_id>", methods=["GET"])
@require("admin")
@blp.response(200, DeliverySchema)
def delivery(subscription_id, delivery_id):
    doc = store.delivery(store.webhook_db(), subscription_id, delivery_id)
    if doc is None:
        raise NotFound(f"no delivery {delivery_id} of webhook {subscription_id}",
                       {"delivery_id": pair("投递记录不存在", "unknown delivery")})
    return store.delivery_out(doc, with_payload=True)


@blp.route("/webhooks/<subscription_id>/deliveries/<delivery_id>/redeliver", methods=["POST"])
@require("admin")
@blp.response(202, DeliverySchema)
def redeliver(subscription_id, delivery_id):
    """Send one delivery again (delivered or failed), with the same Manyi-Delivery id and a fresh retry window."""
    db = store.webhook_db()
    if store.delivery(db, subscription_id, delivery_id, with_body=False) is None:
        raise NotFound(f"no delivery {delivery_id} of webhook {subscription_id}",
                       {"delivery_id": pair("投递记录不存在", "unknown delivery")})
    store.redeliver(db, subscription_id, {"_id": delivery_id})
    return store.delivery_out(store.delivery(db, subscription_id, delivery_id, with_body=False))


@blp.route("/webhooks/<subscription_id>/deliveries/redeliver", methods=["POST"])
@require("admin")
@blp.arguments(BulkRedeliverSchema)
@blp.response(202, RedeliveredSchema)
def redeliver_failed(body, subscription_id):
    """Send every failed delivery of this webhook again."""
    db = store.webhook_db()
    subscription_or_404(db, subscription_id)
    return {"redelivered": store.redeliver(db, subscription_id, {"status": body["status"]})}
