"""What both web processes share: the flask-smorest Api, one JSON error shape, health, local docs."""
import io
import logging
import time

import flask_smorest
import swagger_ui_bundle
from flask import jsonify, request, send_file, send_from_directory
from marshmallow import Schema, fields
from webargs.flaskparser import FlaskParser
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from shared.errors import Refused
from shared.sheets import content_disposition

log = logging.getLogger(__name__)
MAX_BODY = 64 * 1024
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

ZH = {400: "请求有误", 401: "需要有效的密钥", 403: "无权访问", 404: "未找到", 405: "方法不允许",
      409: "冲突", 410: "已失效", 413: "请求体过大（上限 64 KiB）", 415: "不支持的内容类型",
      429: "请求过于频繁", 500: "服务器内部错误", 503: "服务暂不可用"}


class Parser(FlaskParser):
    """Bad bodies are 400 (DESIGN §3), not webargs' default 422."""
    DEFAULT_VALIDATION_STATUS = 400


class Blueprint(flask_smorest.Blueprint):
    """Our blueprints: bodies and queries parsed by `Parser` (400 on a bad one)."""
    ARGUMENTS_PARSER = Parser()


class ErrorSchema(Schema):
    """What every error answer holds (the OpenAPI document of each 4xx and 5xx)."""
    code = fields.Integer(metadata={"description": "the HTTP status"})
    status = fields.String(metadata={"description": "the status in Chinese, e.g. 请求有误"})
    message = fields.String(metadata={"description": "what went wrong, for a person"})
    errors = fields.Dict(keys=fields.String(), metadata={
        "description": "each bad field (or row, or question) → a list of messages ([中文, English] from the "
                       "service's own checks, English from schema checks), or a map of such lists for a nested "
                       "field; present on every 4xx, empty when no single field is to blame"})


class Api(flask_smorest.Api):
    ERROR_SCHEMA = ErrorSchema


def _flatten(errors):
    # webargs nests field errors under the location ("json", "query"); clients want the fields.
    if isinstance(errors, dict) and len(errors) == 1:
        (location, inner), = errors.items()
        if location in ("json", "query", "form", "files", "path") and isinstance(inner, dict):
            return inner
    return errors


def error_response(status, message, errors=None):
    """The one JSON error answer; every 4xx carries `errors` (DESIGN §9)."""
    body = {"code": status, "status": ZH.get(status, ""), "message": message}
    if errors is not None or 400 <= status < 500:
        body["errors"] = errors if errors is not None else {}
    return jsonify(body), status


def create_api(app, title, description):
    app.config.update(
        API_TITLE=title, API_VERSION="v1", OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/", OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs", OPENAPI_SWAGGER_UI_URL="/docs-assets/",
        API_SPEC_OPTIONS={"info": {"description": description},
                          "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
                          "security": [{"bearer": []}]},
        MAX_CONTENT_LENGTH=MAX_BODY, JSON_AS_ASCII=False)
    app.json.ensure_ascii = False
    api = Api(app)

    @app.get("/docs-assets/<path:name>")
    def docs_assets(name):
        return send_from_directory(swagger_ui_bundle.swagger_ui_path, name, max_age=86400)

    @app.errorhandler(HTTPException)
    def http_error(exc):
        data = getattr(exc, "data", None) or {}
        message = data.get("message") or exc.description or exc.name
        if exc.code == 413:  # uploads raise the limit for their own endpoint (request.max_content_length)
            message = f"body larger than {(request.max_content_length or MAX_BODY) // 1024} KiB"
        errors = _flatten(data.get("errors")) if data.get("errors") is not None else None
        if exc.code == 400 and errors is None and "messages" in data:
            errors = _flatten(data["messages"])
        if isinstance(errors, dict) and isinstance(errors.get("json"), list):  # the body itself is unreadable
            message = "the body is not a JSON document of the expected shape / 请求体不是所需格式的 JSON"
            errors = {"body": ["请求体不是合法的 JSON 对象", *errors["json"]]}
        return error_response(exc.code, message, errors)

    @app.errorhandler(Refused)
    def refused(exc):
        return error_response(exc.code, exc.message, exc.errors)

    @app.errorhandler(Exception)
    def unexpected(exc):
        log.exception("unhandled error")
        return error_response(500, "internal error; it has been logged")

    return api


def download(content, mimetype, filename, ascii_name=None):
    """A file to save: RFC 6266 `filename*` in UTF-8, and `filename` an ASCII name of our choosing (`ascii_name`,
    else `filename` stripped to ASCII), so that `curl -OJ` and old clients save something sane."""
    response = send_file(io.BytesIO(content), mimetype=mimetype)
    response.headers["Content-Disposition"] = content_disposition(filename, ascii_name or filename)
    return response


def behind_proxies(app, hops):
    """Trust the X-Forwarded-For/-Proto/-Host of `hops` reverse proxies (TLS terminators) in front.

    Without it, behind a proxy every client has the proxy's address, so one client's rate limit is the
    whole county's, and the dashboard's same-origin check and secure cookie see plain http.
    """
    if hops > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)


def health_routes(app, checks):
    """`/healthz` (alive) and `/readyz` (each of `checks` — name → callable — passes; 503 otherwise)."""
    @app.get("/healthz")
    def healthz():
        return {"status": "ok"}

    @app.get("/readyz")
    def readyz():
        results, ready = {}, True
        for name, check in checks.items():
            started = time.monotonic()
            try:
                check()
                results[name] = {"ok": True, "ms": round((time.monotonic() - started) * 1000, 1)}
            except Exception as exc:  # any failure means not ready; say which and why
                ready = False
                results[name] = {"ok": False, "error": repr(exc)[:200]}
        return {"ready": ready, "checks": results}, 200 if ready else 503


class RateLimiter:
    """Fixed one-minute windows per client address, per process: a brake on abuse, not billing."""

    def __init__(self, per_minute):
        self.per_minute = per_minute
        self._window, self._counts = 0, {}

    def allow(self, client):
        if self.per_minute <= 0:
            return True
        window = int(time.time() // 60)
        if window != self._window:
            self._window, self._counts = window, {}
        self._counts[client] = self._counts.get(client, 0) + 1
        return self._counts[client] <= self.per_minute
