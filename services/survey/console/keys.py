"""密钥: create keys for cadres, departments and portals (shown once, with a QR code for a cadre's phone), list them.

Listing reads the keys collection (never the digests). Revocation arrives with `DELETE /api/v1/keys/{id}`
(DESIGN §9); until then this page says so instead of offering it.
"""
import base64

from flask import request
from marshmallow import ValidationError

from services.survey.console.demands import departments
from services.survey.console.web import attempt, for_roles, page, render, store
from services.survey.invitations.printing import qr_svg
from services.survey.keys import api as keys_api
from services.survey.schemas import KeyCreateSchema
from services.survey.web import services


def key_list():
    return list(store().keys.find({}, {"hash": 0}).sort("created_at", -1))


@page.get("/keys")
@for_roles("admin")
def keys(created=None, refused=None, status=200):
    return render("keys.html", keys=key_list(), departments=departments(), created=created, refused=refused,
                  form=request.form), status


def visit_link(key):
    """The cadre's visit page with the key in the fragment: scanned once, the phone keeps it (visits/page.py)."""
    return f"{services().config.public_url}/visit#key={key}"


@page.post("/keys")
@for_roles("admin")
def key_create():
    body = {k: v.strip() for k, v in request.form.items() if k in ("role", "name", "department") and v.strip()}
    if body.get("role") != "department":
        body.pop("department", None)
    try:
        body = KeyCreateSchema().load(body)
    except ValidationError as invalid:
        return keys(refused={"message": "未创建", "errors": invalid.messages}, status=400)
    created, refusal = attempt(keys_api.issue, body)
    if refusal:
        return keys(refused=refusal, status=refusal["status"])
    if created["role"] == "cadre":
        link = visit_link(created["key"])
        created["qr"] = "data:image/svg+xml;base64," + base64.b64encode(qr_svg(link, scale=5)).decode()
    return keys(created=created)
