"""Release (通报): the administrator publishes a period's figures to portals, on purpose.

`POST /api/v1/periods/{P}/release` stores release N of the period with its `period.released` message in the
outbox, in one journaled transaction, then publishes it; the scoring worker snapshots the period's figures when
it applies the message, and portals read that snapshot until the next release. `GET /api/v1/periods` lists
every period released so far with its latest release.
"""
from flask import g
from flask_smorest import Blueprint, abort
from marshmallow import Schema, fields
from pymongo.errors import DuplicateKeyError

from services.survey.web import services
from shared import messages, mongo
from shared.domain import PERIOD_RE, utcnow
from shared.keys import require

blp = Blueprint("releases", __name__, url_prefix="/api/v1", description="Release of a period's figures (通报)")


class ReleaseSchema(Schema):
    period = fields.String()
    release = fields.Integer(metadata={"description": "1 for the first release of the period, then 2, 3, …"})
    released_at = fields.DateTime()
    by = fields.String(metadata={"description": "name of the admin key that released it"})


class PeriodReleaseSchema(Schema):
    period = fields.String()
    released = fields.Boolean()
    released_at = fields.DateTime(allow_none=True, metadata={"description": "of the latest release"})
    release = fields.Integer(allow_none=True, metadata={"description": "number of the latest release"})


class PeriodListSchema(Schema):
    periods = fields.List(fields.Nested(PeriodReleaseSchema))


def release_message(period, number, at):
    # The id names the period and release: a record republished by the relay is the same message to the worker.
    return messages.envelope(messages.PERIOD_RELEASED, {"period": period, "release": number, "released_at": at.isoformat()},
                             id_=f"release:{period}:{number}", occurred_at=at)


def latest_releases(store):
    """{period: its latest release record}."""
    latest = {}
    for r in store.db.releases.find({}, {"message": 0}):
        if r["period"] not in latest or r["release"] > latest[r["period"]]["release"]:
            latest[r["period"]] = r
    return latest


@blp.route("/periods/<period>/release", methods=["POST"])
@require("admin")
@blp.response(202, ReleaseSchema)
@blp.alt_response(409, description="another release of the period was made at the same moment; try again")
def release(period):
    """Publish the period's current figures to portal keys as a new release; earlier releases stay readable."""
    if not PERIOD_RE.match(period):
        abort(400, message="period must be a quarter YYYYQn", errors={"period": ["应为季度，如 2026Q4", "a quarter YYYYQn"]})
    svc, now = services(), utcnow()
    store = svc.store
    latest = store.db.releases.find_one({"period": period}, {"release": 1}, sort=[("release", -1)])
    number = (latest["release"] if latest else 0) + 1
    message = release_message(period, number, now)
    record = {"_id": f"{period}:{number}", "period": period, "release": number, "released_at": now,
              "by": g.api_key.get("name") or g.api_key["role"], "routing_key": messages.PERIOD_RELEASED,
              "message": message, "published": False, "created_at": now}

    def work(session):
        store.db.releases.insert_one({k: v for k, v in record.items() if k not in ("routing_key", "message",
                                                                                     "published")}, session=session)
        store.outbox.insert_one({"_id": message["id"], "routing_key": messages.PERIOD_RELEASED, "message": message,
                                 "published": False, "created_at": now}, session=session)
    try:
        mongo.run_transaction(store.client, work)
    except DuplicateKeyError:
        abort(409, message="the period was released by someone else just now; try again",
              errors={"period": ["刚刚已有人发布本期，请刷新后重试", "released concurrently"]})
    svc.outbox.publish_now("outbox", message["id"], messages.PERIOD_RELEASED, message)
    return {k: record[k] for k in ("period", "release", "released_at", "by")}


@blp.route("/periods", methods=["GET"])
@require("admin")
@blp.response(200, PeriodListSchema)
def periods():
    """Periods released so far, oldest first, each with its latest release."""
    latest = latest_releases(services().store)
    return {"periods": [{"period": p, "released": True, "released_at": latest[p]["released_at"],
                         "release": latest[p]["release"]}
                        for p in sorted(latest, key=lambda p: (p[:4], p[-1]))]}
