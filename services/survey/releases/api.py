"""Release (通报): the administrator publishes a period's figures to portals, on purpose.

`POST /api/v1/periods/{P}/release` stores release N of the period with its `period.released` event in one unit
of work (services/survey/releases/use_cases.py), then publishes it; the scoring worker snapshots the period's figures when
it applies the message, and portals read that snapshot until the next release. `GET /api/v1/periods` lists
every period released so far with its latest release.
"""
import time

from flask import g
from marshmallow import Schema, fields

from services.survey.releases import use_cases
from services.survey.web import services
from shared.domain import is_read_period, period_key
from shared.errors import Invalid, pair
from shared.keys import require
from shared.web import Blueprint

# How long a release waits for scoring to freeze its figures, so that a portal reading right after the answer
# sees them; past that it answers with `applied: false` and the figures follow as soon as the worker catches up.
APPLY_WAIT_SECONDS = 10

blp = Blueprint("releases", __name__, url_prefix="/api/v1", description="Release of a period's figures (通报)")


class ReleaseSchema(Schema):
    period = fields.String()
    release = fields.Integer(metadata={"description": "1 for the first release of the period, then 2, 3, …"})
    released_at = fields.DateTime()
    by = fields.String(metadata={"description": "name of the admin key that released it"})
    applied = fields.Boolean(metadata={"description": "portals can read this release now (false: the scoring "
                                                      "worker is behind; they can shortly)"})


class PeriodReleaseSchema(Schema):
    period = fields.String()
    released = fields.Boolean()
    released_at = fields.DateTime(allow_none=True, metadata={"description": "of the latest release"})
    release = fields.Integer(allow_none=True, metadata={"description": "number of the latest release"})


class PeriodListSchema(Schema):
    periods = fields.List(fields.Nested(PeriodReleaseSchema))


@blp.route("/periods/<period>/release", methods=["POST"])
@require("admin")
@blp.response(202, ReleaseSchema)
@blp.alt_response(409, description="another release of the period was made at the same moment; try again")
def release(period):
    """Publish the period's current figures to portal keys as a new release; earlier releases stay readable."""
    if not is_read_period(period):
        raise Invalid("period must be a quarter YYYYQn or a year YYYY",
                      {"period": pair("应为季度或年度，如 2026Q4、2026", "a quarter YYYYQn or a year YYYY")})
    svc = services()
    record = use_cases.release(svc, period, g.api_key)
    deadline, applied = time.monotonic() + APPLY_WAIT_SECONDS, False
    while not (applied := svc.releases.applied(period, record["release"], svc.config.scores_db)) \
            and time.monotonic() < deadline:
        time.sleep(0.1)
    return {**{k: record[k] for k in ("period", "release", "released_at", "by")}, "applied": applied}


@blp.route("/periods", methods=["GET"])
@require("admin")
@blp.response(200, PeriodListSchema)
def periods():
    """Periods released so far, oldest first, each with its latest release."""
    latest = services().releases.latest_of_each()
    return {"periods": [{"period": p, "released": True, "released_at": latest[p]["released_at"],
                         "release": latest[p]["release"]}
                        for p in sorted(latest, key=period_key)]}
