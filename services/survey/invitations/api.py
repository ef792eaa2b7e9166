"""Invitations: sending personal links, and following them up (QR codes, printable sheets, who has not
answered, progress)."""
from flask import Response

from services.survey.invitations import printing, tracking, use_cases
from services.survey.invitations.schemas import (
    InvitationFilterSchema,
    InvitationListQuerySchema,
    InvitationListSchema,
    InvitationRequestSchema,
    InvitationSheetSchema,
    InvitationStatusListSchema,
    ProgressSchema,
)
from services.survey.surveys.use_cases import survey_or_404
from services.survey.web import LIST_LIMIT, body_limit, services
from shared.keys import require
from shared.paging import page_of, paged
from shared.web import XLSX, Blueprint, download

blp = Blueprint("invitations", __name__, url_prefix="/api/v1", description="Invitations, QR codes and tracking (智能邀评)")


@blp.route("/surveys/<survey_id>/invitations", methods=["POST"])
@require("admin")
@body_limit(LIST_LIMIT)
@blp.arguments(InvitationRequestSchema)
@blp.response(201, InvitationListSchema)
def invite(body, survey_id):
    """Personal links, one per enterprise; an enterprise with a live (or used) invitation gets it back."""
    return {"invitations": use_cases.invite(services(), survey_id, body["enterprises"], body.get("expires_at"))}


@blp.route("/invitations/<token>/qr.png", methods=["GET"])
@require("admin")
@blp.response(200, content_type="image/png")
@blp.alt_response(409, description="the link cannot be shown again (no token key): invite again")
def qr_png(token):
    """The invitation link as a QR code (PNG); the invitation is named by its token or by its `id`."""
    return Response(printing.qr_png(use_cases.invitation_url(services(), token)), mimetype="image/png")


@blp.route("/invitations/<token>/qr.svg", methods=["GET"])
@require("admin")
@blp.response(200, content_type="image/svg+xml")
@blp.alt_response(409, description="the link cannot be shown again (no token key): invite again")
def qr_svg(token):
    """The invitation link as a QR code (SVG, for print layouts); named by its token or by its `id`."""
    return Response(printing.qr_svg(use_cases.invitation_url(services(), token)), mimetype="image/svg+xml")


@blp.route("/surveys/<survey_id>/invitations", methods=["GET"])
@require("admin")
@blp.arguments(InvitationListQuerySchema, location="query")
@blp.response(200, InvitationStatusListSchema)
def list_(query, survey_id):
    """One line per invited enterprise: sent / opened (first page view) / answered; paged (`page`, `per_page`,
    `total`, `Link`). `status=unanswered` lists whom to remind (the .xlsx and .pdf carry every line)."""
    rows = use_cases.invitation_rows(services(), survey_id, query["status"], query["township"])
    return paged("invitations", page_of(rows, query), len(rows), query)


@blp.route("/surveys/<survey_id>/invitations.xlsx", methods=["GET"])
@require("admin")
@blp.arguments(InvitationSheetSchema, location="query")
@blp.response(200, content_type=XLSX)
def sheet_xlsx(query, survey_id):
    """The same list as Excel, with each link's QR code (`status=unanswered`: the reminder list)."""
    survey = survey_or_404(services(), survey_id)
    rows = use_cases.invitation_rows(services(), survey_id, query["status"], query["township"])
    return download(printing.invitations_xlsx(survey["title"], rows, with_qr=query["qr"]), XLSX,
                    f"invitations-{survey_id}-{query['status']}.xlsx")


@blp.route("/surveys/<survey_id>/invitations.pdf", methods=["GET"])
@require("admin")
@blp.arguments(InvitationFilterSchema, location="query")
@blp.response(200, content_type="application/pdf")
def sheet_pdf(query, survey_id):
    """Printable A4 cards, six a page: enterprise name, QR code and link, for cadres to hand out (per township:
    `township=`)."""
    survey = survey_or_404(services(), survey_id)
    rows = use_cases.invitation_rows(services(), survey_id, query["status"], query["township"])
    return download(printing.invitations_pdf(survey["title"], rows), "application/pdf", f"invitations-{survey_id}.pdf")


@blp.route("/surveys/<survey_id>/progress", methods=["GET"])
@require("admin")
@blp.response(200, ProgressSchema)
def progress(survey_id):
    """Response rate (answered / invited enterprises) overall, per township and per segment attribute."""
    return tracking.progress(survey_id, use_cases.invitation_rows(services(), survey_id))
