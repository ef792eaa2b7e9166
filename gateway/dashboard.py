"""The leader dashboard `GET /dashboard`: log in once with a portal or admin key, then read the figures.

The key is exchanged for a server-side session (gateway/sessions.py) whose cookie is HttpOnly and
SameSite=Strict; the page's own fetches of the read-only JSON API ride on it. Logging in and out
are the only writes, and they refuse cross-origin posts.
"""
import json
import urllib.error
import urllib.request

from flask import Blueprint, current_app, jsonify, redirect, render_template, request

from gateway.api import READERS
from gateway.labels import ATTRIBUTE_NAMES, VALUE_NAMES
from gateway.sessions import COOKIE, LIFETIME
from shared.domain import is_read_period
from shared.errors import Forbidden, Invalid, Refused, pair

page = Blueprint("dashboard", __name__)
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "frame-ancestors 'none'; form-action 'self'; base-uri 'none'")


def services():
    return current_app.extensions["manyi"]


def secured(response, status=200):
    response = current_app.make_response((response, status))
    response.headers["Content-Security-Policy"] = CSP
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    return response


def login_page(error=None, status=200):
    return secured(render_template("login.html", error=error), status)


def same_origin():
    """A form post from another site carries its Origin (or at least its Referer); refuse those."""
    origin = request.headers.get("Origin") or request.headers.get("Referer")
    return origin is None or origin == request.host_url.rstrip("/") or origin.startswith(request.host_url)


@page.get("/dashboard")
def dashboard():
    record = services().sessions.current()
    if record is None:
        return login_page()
    return secured(render_template("dashboard.html", attributes=list(ATTRIBUTE_NAMES.items()),
                                   value_names=VALUE_NAMES, role=record["role"]))


@page.post("/dashboard/release")
def release():
    """The dashboard's 通报 button: an admin session asks the survey service to release a period.

    The gateway stays read-only: it forwards the request to the survey service (`MANYI_SURVEY_URL`), which
    owns releases, with the deployment's admin key. Same-origin posts of an admin session only.
    """
    if not same_origin():
        raise Forbidden("cross-origin release refused", {"origin": pair("拒绝跨站发布", "cross-origin release refused")})
    record = services().sessions.current()
    if record is None or record["role"] != "admin":
        raise Forbidden("only an administrator releases a period / 只有管理员可以通报发布",
                        {"role": pair("只有管理员可以通报发布", "admin only")})
    period = request.form.get("period", "")
    if not is_read_period(period):
        raise Invalid("period must be a quarter YYYYQn or a year YYYY", {"period": pair("应为季度或年度", "YYYYQn or YYYY")})
    config = services().config
    if not config.admin_key:
        raise Unavailable("the gateway has no MANYI_ADMIN_KEY to release with; release on the survey service")
    forward = urllib.request.Request(f"{config.survey_url}/api/v1/periods/{period}/release", data=b"", method="POST",
                                     headers={"Authorization": f"Bearer {config.admin_key}"})
    try:
        with urllib.request.urlopen(forward, timeout=10) as reply:
            return jsonify(json.loads(reply.read())), reply.status
    except urllib.error.HTTPError as refused:
        return current_app.response_class(refused.read(), refused.code, mimetype="application/json")
    except OSError as exc:
        raise Unavailable("the survey service cannot be reached; try again shortly") from exc


class Unavailable(Refused):
    code = 503


@page.post("/dashboard/login")
def login():
    if not same_origin():
        raise Forbidden("cross-origin login refused", {"origin": pair("拒绝跨站登录", "cross-origin login refused")})
    failures, client = services().keyring.failures, request.remote_addr or "-"
    if failures.over(client):  # wrong keys counted per client across every gateway process
        return login_page("尝试过于频繁，请一分钟后再试。", 429)
    key = request.form.get("key", "").strip()
    record = services().keyring.resolve(key) if key else None
    if record is None:
        failures.hit(client)
        return login_page("密钥无效，请核对后重试。", 401)
    if record["role"] not in READERS:
        return login_page("该密钥无权查看看板（需要门户或管理员密钥）。", 403)
    sessions = services().sessions
    sessions.ensure_indexes()
    response = redirect("/dashboard", 303)
    response.set_cookie(COOKIE, sessions.open(record), max_age=int(LIFETIME.total_seconds()), httponly=True,
                        samesite="Strict", secure=request.is_secure, path="/")
    return response


@page.post("/dashboard/logout")
def logout():
    if not same_origin():
        raise Forbidden("cross-origin logout refused", {"origin": pair("拒绝跨站退出", "cross-origin logout refused")})
    token = request.cookies.get(COOKIE)
    if token:
        services().sessions.close(token)
    response = redirect("/dashboard", 303)
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="Strict")
    return response
