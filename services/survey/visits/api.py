"""`POST /api/v1/visits`: a cadre's visit (万人助万企): ratings of departments and the enterprise's demands."""
from flask import g

from services.survey.visits import recording
from services.survey.visits.schemas import VisitAcceptedSchema, VisitSchema
from services.survey.web import services
from shared.keys import require
from shared.web import Blueprint

blp = Blueprint("visits", __name__, url_prefix="/api/v1", description="Visits (万人助万企 走访)")


@blp.route("/visits", methods=["POST"])
@require("cadre", "admin")
@blp.arguments(VisitSchema)
@blp.response(202, VisitAcceptedSchema)
def record_visit(body):
    """Record a visit; 202 once it and its demands are durable."""
    return recording.record_visit(services(), body, g.api_key)
