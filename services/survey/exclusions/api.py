"""Exclusions (经复核剔除, admin): leave ratings, a whole answer or a whole visit out of every figure, list them,
restore them. Scoring applies each change through its event (rating.excluded / rating.restored).

The enterprise's code never leaves this API (admins may look it up from the answer or visit itself).
"""
from flask import g

from services.survey.exclusions.schemas import (
    ExclusionCreateSchema,
    ExclusionListSchema,
    ExclusionQuerySchema,
    ExclusionSchema,
    RestoreArgsSchema,
)
from services.survey.exclusions.use_cases import exclude, restore
from services.survey.web import services
from shared.keys import require
from shared.paging import paged, window
from shared.web import Blueprint

blp = Blueprint("exclusions", __name__, url_prefix="/api/v1", description="Exclusions (经复核剔除, admin)")


@blp.route("/exclusions", methods=["POST"])
@require("admin")
@blp.arguments(ExclusionCreateSchema)
@blp.response(201, ExclusionSchema)
@blp.alt_response(404, description="no such answer, visit, question or department")
@blp.alt_response(409, description="every rating the target names is excluded already")
def create(body):
    """Exclude the ratings `target` names from every figure, with a reason."""
    return exclude(services(), body["target"], body["reason"], g.api_key)


@blp.route("/exclusions", methods=["GET"])
@require("admin")
@blp.arguments(ExclusionQuerySchema, location="query")
@blp.response(200, ExclusionListSchema)
def list_(query):
    """Exclusions newest first, filtered by department, period (a quarter or a year) and active, paged."""
    items, total = services().exclusions.page(query, *window(query))
    return paged("exclusions", items, total, query)


@blp.route("/exclusions/<exclusion_id>", methods=["DELETE"])
@require("admin")
@blp.arguments(RestoreArgsSchema, location="query")
@blp.response(200, ExclusionSchema)
@blp.alt_response(404, description="no such exclusion")
@blp.alt_response(409, description="restored already")
def delete(args, exclusion_id):
    """Restore an exclusion (`?reason=` says why): its ratings count again. Answers the restored record."""
    return restore(services(), exclusion_id, args["reason"], g.api_key)
