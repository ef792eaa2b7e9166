"""The gateway's read-only API: indices per department, indicator and period.

Who reads what (DESIGN §9, 通报): an admin key reads the live figures, marked unreleased; a portal key reads
a period's latest release (`?release=N` for an earlier one), protected by complementary suppression, and 404
before the period's first release. `reading()` picks the figures for the request's key.
"""
from flask import current_app, g, request

from gateway.releases import NotReleased
from gateway.schemas import DepartmentDetailSchema, IndicesSchema, PeriodQuerySchema, PeriodsSchema
from shared.domain import period_key
from shared.errors import NotFound, pair
from shared.keys import require
from shared.web import Blueprint

blp = Blueprint("indices", __name__, url_prefix="/api/v1", description="Satisfaction indices (portal, admin)")
READERS = ("portal", "admin")
LIVE = {"released": False, "release": None, "released_at": None}
BODIES_PER_FIGURES = 4096  # replies kept per period's figures: departments × attributes, with room to spare


def services():
    return current_app.extensions["manyi"]


def figures():
    """The live figures (admin keys, and what is not per period)."""
    return services().figures


def is_live(release=None):
    return g.api_key["role"] == "admin" and release is None


def reading(period, release=None):
    """(figures, release mark) for this request's key: live for an admin key, else the period's release.

    404 with a plain message when the period has no release yet (or not release N).
    """
    if is_live(release):
        return figures(), LIVE
    try:
        figs = services().releases.view(period, release)
        record = figs.release_of(period)
    except NotReleased as missing:
        which = f"release {missing.release} of {period}" if missing.release else period
        raise NotFound(f"{which} has not been released to portals yet (本期尚未通报发布); figures reach portal keys "
                       f"once an administrator releases the period",
                       {"period": pair(f"{period} 尚未通报发布" if not missing.release else
                                       f"{period} 没有第 {release} 次发布", f"{which} is not released")}) from missing
    return figs, {"released": True, "release": record["release"], "released_at": record["released_at"]}


def serialized(figures_of_period, schema, build, *key):
    """The JSON reply of `build()` dumped through `schema` (a class), made once per figures object: a period's figures at
    one version (a commit makes a new object) or a release (never changes). A warm read then costs the version
    check and the key, not marshmallow, which was most of its time (4–6× a bare GET of the same JSON).

    `key` names the reply among those of the same figures (validated arguments only, so a client cannot fill the
    memory with junk query strings); `figures_of_period` None: not kept (what also depends on other documents)."""
    kept = figures_of_period.bodies if figures_of_period is not None else {}
    key = (request.endpoint, *key)
    body = kept.get(key)
    if body is None:
        body = current_app.json.response(schema().dump(build())).get_data()
        if figures_of_period is not None and len(kept) < BODIES_PER_FIGURES:
            kept[key] = body
    return current_app.response_class(body, mimetype="application/json")


@blp.route("/indices", methods=["GET"])
@require(*READERS)
@blp.arguments(PeriodQuerySchema, location="query")
@blp.response(200, IndicesSchema)
def indices(query):
    """Every department's index in a period, ranked, with 落后单位 flagged."""
    period = query["period"]
    figs, mark = reading(period, query["release"])
    return serialized(figs.figures(period), IndicesSchema, lambda: {
        "period": period, "min_n": services().config.min_n, **mark, "departments": figs.period(period)["departments"]})


@blp.route("/departments/<code>/index", methods=["GET"])
@require(*READERS)
@blp.arguments(PeriodQuerySchema, location="query")
@blp.response(200, DepartmentDetailSchema)
def department_index(query, code):
    """One department's index with its indicators and channel counts."""
    figs, mark = reading(query["period"], query["release"])
    entry = figs.department(query["period"], code)
    if entry is None:
        raise NotFound(f"no department {code}", {"code": pair("没有此部门", "unknown department")})

    def detail():
        names = figures().indicator_names(code)
        indicators = [{**i, "name": names.get(i["indicator"], i["indicator"])} for i in entry["indicators"]]
        return {"period": query["period"], **mark, **entry, "indicators": indicators}
    # Indicator names are today's (not a release's): a rename bumps the live figures' version (the worker's
    # department-list counter), while a release would keep an old name, so a release's detail is made each time.
    return serialized(figs.figures(query["period"]) if is_live(query["release"]) else None,
                      DepartmentDetailSchema, detail, code)


@blp.route("/periods", methods=["GET"])
@require(*READERS)
@blp.response(200, PeriodsSchema)
def periods():
    """Periods with figures, oldest first, each with its release state: every rated or released period for an
    admin key; the released ones for a portal key."""
    released = services().releases.listing()
    listed = set(released) | (set(figures().periods()) if is_live() else set())
    ordered = sorted(listed, key=period_key)
    entries = []
    for p in ordered:
        r = released.get(p)
        entry = {"period": p, "released": r is not None, "release": r and r["release"],
                 "released_at": r and r["released_at"]}
        if r and is_live():  # why a release may not show the latest answers: for the administrator only
            entry["held_back"] = r.get("held_back")
        entries.append(entry)
    return {"periods": ordered, "releases": entries}
