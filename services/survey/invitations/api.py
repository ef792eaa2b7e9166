"""Invitations as administrators follow them up: QR codes, printable sheets, who has not answered, progress."""
from flask import Response
from flask_smorest import Blueprint, abort

from services.survey.invitations import printing, tracking
from services.survey.schemas import (
    InvitationFilterSchema,
    InvitationListQuerySchema,
    InvitationSheetSchema,
    InvitationStatusListSchema,
    ProgressSchema,
)
from services.survey.web import services
from shared.keys import require
from shared.paging import page_of, paged
from shared.sheets import content_disposition

blp = Blueprint("invitations", __name__, url_prefix="/api/v1", description="Invitation QR codes and tracking (智能邀评)")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def url_of(token):
    return f"{services().config.public_url}/s/{token}"


def invitation_url_or_404(token):
    if services().store.invitations.find_one({"_id": token}, {"_id": 1}) is None:
        abort(404, message="unknown invitation", errors={"token": ["邀请不存在", "unknown invitation"]})
    return url_of(token)


def survey_or_404(survey_id):
    doc = services().store.surveys.find_one({"_id": survey_id})
    if doc is None:
        abort(404, message=f"no survey {survey_id}", errors={"survey_id": ["问卷不存在", "unknown survey"]})
    return doc


def answered_by_token(invitations, responses):
    """{token: answered at} over this version's invitations. An enterprise answers a survey once, whichever
    version it answered: an answer through an earlier version's link counts for its links here too."""
    tokens_by_enterprise = {}
    for inv in invitations:
        tokens_by_enterprise.setdefault(inv["enterprise"], []).append(inv["_id"])
    answered = {}
    for r in responses:
        mine = tokens_by_enterprise.get(r["enterprise"], [])
        for token in [r["token"]] if r["token"] in mine else mine:
            answered[token] = r["created_at"]
    return answered


def rows_of(survey_id, status="all", township=None):
    store = services().store
    survey = survey_or_404(survey_id)
    invitations = list(store.invitations.find({"survey_id": survey_id}))
    answered = answered_by_token(invitations, store.responses.find(
        {"survey_code": survey["code"]}, {"token": 1, "enterprise": 1, "created_at": 1}))
    opened = {e["token"]: e["at"] for e in store.invitation_events.find({"survey_id": survey_id, "kind": "opened"})}
    # The county's whole list in one read: a $in of 10,000 codes takes a minute on the embedded server,
    # the full read a tenth of a second, and a county has tens of thousands of enterprises at most.
    invited = {inv["enterprise"] for inv in invitations}
    enterprises = {e["_id"]: e for e in store.enterprises.find({}, {"updated_at": 0}) if e["_id"] in invited}
    rows = tracking.invitation_rows(invitations, enterprises, opened, answered, url_of)
    return [r for r in rows if tracking.matches(r, status) and township in (None, r["township"])]


def download(content, mimetype, filename):
    return Response(content, mimetype=mimetype, headers={"Content-Disposition": content_disposition(filename, filename)})


@blp.route("/invitations/<token>/qr.png", methods=["GET"])
@require("admin")
@blp.response(200, content_type="image/png")
def qr_png(token):
    """The invitation link as a QR code (PNG)."""
    return Response(printing.qr_png(invitation_url_or_404(token)), mimetype="image/png")


@blp.route("/invitations/<token>/qr.svg", methods=["GET"])
@require("admin")
@blp.response(200, content_type="image/svg+xml")
def qr_svg(token):
    """The invitation link as a QR code (SVG, for print layouts)."""
    return Response(printing.qr_svg(invitation_url_or_404(token)), mimetype="image/svg+xml")


@blp.route("/surveys/<survey_id>/invitations", methods=["GET"])
@require("admin")
@blp.arguments(InvitationListQuerySchema, location="query")
@blp.response(200, InvitationStatusListSchema)
def list_(query, survey_id):
    """One line per invited enterprise: sent / opened (first page view) / answered; paged (`page`, `per_page`,
    `total`, `Link`). `status=unanswered` lists whom to remind (the .xlsx and .pdf carry every line)."""
    survey_or_404(survey_id)
    rows = rows_of(survey_id, query["status"], query["township"])
    return paged("invitations", page_of(rows, query), len(rows), query)


@blp.route("/surveys/<survey_id>/invitations.xlsx", methods=["GET"])
@require("admin")
@blp.arguments(InvitationSheetSchema, location="query")
@blp.response(200, content_type=XLSX)
def sheet_xlsx(query, survey_id):
    """The same list as Excel, with each link's QR code (`status=unanswered`: the reminder list)."""
    survey = survey_or_404(survey_id)
    rows = rows_of(survey_id, query["status"], query["township"])
    return download(printing.invitations_xlsx(survey["title"], rows, with_qr=query["qr"]), XLSX,
                    f"invitations-{survey_id}-{query['status']}.xlsx")


@blp.route("/surveys/<survey_id>/invitations.pdf", methods=["GET"])
@require("admin")
@blp.arguments(InvitationFilterSchema, location="query")
@blp.response(200, content_type="application/pdf")
def sheet_pdf(query, survey_id):
    """Printable A4 cards, six a page: enterprise name, QR code and link, for cadres to hand out (per township:
    `township=`)."""
    survey = survey_or_404(survey_id)
    return download(printing.invitations_pdf(survey["title"], rows_of(survey_id, query["status"], query["township"])),
                    "application/pdf", f"invitations-{survey_id}.pdf")


@blp.route("/surveys/<survey_id>/progress", methods=["GET"])
@require("admin")
@blp.response(200, ProgressSchema)
def progress(survey_id):
    """Response rate (answered / invited enterprises) overall, per township and per segment attribute."""
    survey_or_404(survey_id)
    return tracking.progress(survey_id, rows_of(survey_id))
