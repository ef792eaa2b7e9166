"""`GET /api/v1/flags` (admin): suspicious-rating flags, filtered and paged. Flags never exclude anything;
they name answers and visits, which only an admin reads (admins always see identities)."""
from services.survey.flags.schemas import FlagListSchema, FlagQuerySchema
from services.survey.flags.use_cases import list_flags
from services.survey.web import services
from shared.keys import require
from shared.paging import paged, window
from shared.web import Blueprint

blp = Blueprint("flags", __name__, url_prefix="/api/v1", description="Suspicious-rating flags (admin)")


@blp.route("/flags", methods=["GET"])
@require("admin")
@blp.arguments(FlagQuerySchema, location="query")
@blp.response(200, FlagListSchema)
def list_(query):
    """Flags (speeder, straight_line, burst, cadre_same, cadre_travel, wave), newest first."""
    flags, total = list_flags(services(), query, *window(query))
    return paged("flags", flags, total, query)
