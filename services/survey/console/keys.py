"""密钥: create keys for cadres, departments and portals (shown once, with a QR code for a cadre's phone), list them.

Listing reads the keys' records (never their digests), as `GET /api/v1/keys` does; revoking is the same use
case as `DELETE /api/v1/keys/{id}`.
"""
import base64
from datetime import date

from flask import g, redirect, request, url_for
from marshmallow import ValidationError

from services.survey.console.demands import departments
from services.survey.console.web import attempt, for_roles, page, render
from services.survey.demands.rules import end_of_day
from services.survey.invitations.printing import qr_svg
from services.survey.keys.schemas import KeyCreateSchema
from services.survey.keys.use_cases import create_key, revoke_key
from services.survey.web import services
from shared.domain import SHANGHAI, utcnow


@page.get("/keys")
@for_roles("admin")
def keys(created=None, refused=None, status=200):
    now = utcnow()
    return render("keys.html", keys=services().keys.listed(), departments=departments(), created=created,
                  refused=refused, form=request.form, now=now, today=now.astimezone(SHANGHAI).date().isoformat()), status


def visit_link(key):
    """The cadre's visit page with the key in the fragment: scanned once, the phone keeps it (static/visit.js)."""
    return f"{services().config.public_url}/visit#key={key}"


@page.post("/keys")
@for_roles("admin")
def key_create():
    body = {k: v.strip() for k, v in request.form.items()
            if k in ("role", "name", "department", "expires_at") and v.strip()}
    if body.get("role") != "department":
        body.pop("department", None)
    if body.get("expires_at"):
        try:  # a date picked in the form: the key works until the end of that day in the county
            body["expires_at"] = end_of_day(date.fromisoformat(body["expires_at"])).isoformat()
        except ValueError:
            pass  # the schema names the bad value
    try:
        body = KeyCreateSchema().load(body)
    except ValidationError as invalid:
        return keys(refused={"message": "未创建", "errors": invalid.messages}, status=400)
    made, refusal = attempt(create_key, services(), body["role"], body["name"], body.get("department"),
                            body.get("expires_at"), actor=g.key)
    if refusal:
        return keys(refused=refusal, status=refusal["status"])
    record, key = made
    created = {"name": record["name"], "role": record["role"], "key": key, "expires_at": record.get("expires_at")}
    if record["role"] == "cadre":
        created["qr"] = "data:image/svg+xml;base64," + base64.b64encode(qr_svg(visit_link(key), scale=5)).decode()
    return keys(created=created)


@page.post("/keys/<key_id>/revoke")
@for_roles("admin")
def key_revoke(key_id):
    _, refusal = attempt(revoke_key, services(), key_id, actor=g.key)  # as DELETE /api/v1/keys/{id}
    if refusal:
        return keys(refused=refusal, status=refusal["status"])
    return redirect(url_for("console.keys"), 303)
