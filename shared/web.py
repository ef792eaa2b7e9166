"""What both web processes share: the flask-smorest Api, one JSON error shape, health, local docs,
request ids and access logs, `/metrics`, and 503 + Retry-After while a dependency is away."""
import hashlib
import io
import ipaddress
import logging
import time
import uuid

import flask_smorest
import swagger_ui_bundle
from flask import Response, g, jsonify, request, send_file, send_from_directory
from flask.json.provider import DefaultJSONProvider
from marshmallow import Schema, fields
from pika.exceptions import AMQPError
from pymongo.errors import PyMongoError
from webargs.flaskparser import FlaskParser
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.middleware.proxy_fix import ProxyFix

from shared import mongo, observe, safe_json
from shared.errors import Refused
from shared.sheets import content_disposition

log = logging.getLogger(__name__)
access_log = logging.getLogger("manyi.access")
MAX_BODY = 64 * 1024
RETRY_AFTER = 5  # seconds a client is asked to wait while a dependency is away
OUTAGES = {"mongodb": observe.Outage("MongoDB"), "rabbitmq": observe.Outage("RabbitMQ")}
REQUEST_ID_HEADER = "X-Request-Id"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

ZH = {400: "请求有误", 401: "需要有效的密钥", 403: "无权访问", 404: "未找到", 405: "方法不允许",
      409: "冲突", 410: "已失效", 413: "请求体过大（上限 64 KiB）", 415: "不支持的内容类型",
      429: "请求过于频繁", 500: "服务器内部错误", 503: "服务暂不可用"}


class Parser(FlaskParser):
    """Bad bodies are 400 (DESIGN §3), not webargs' default 422."""
    DEFAULT_VALIDATION_STATUS = 400

    def _raw_load_json(self, req):
        # Bounded depth, no lone surrogates (shared/safe_json.py); a failure is webargs' "invalid JSON" 400.
        if not (req.mimetype == "application/json" or req.mimetype.endswith("+json")):
            return super()._raw_load_json(req)
        data = req.get_data(cache=True)
        limit = req.max_content_length
        if req.content_length is None and limit is not None and len(data) >= limit:
            # A chunked body has no length to check up front; werkzeug cuts it at the limit, which would
            # otherwise read as truncated JSON (400) instead of a body over the limit (413).
            raise RequestEntityTooLarge()
        return safe_json.loads(data)


class SafeJSONProvider(DefaultJSONProvider):
    """request.get_json() in any view parses as the API's bodies do."""

    def loads(self, s, **kwargs):
        return safe_json.loads(s)


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


RETRY_PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="{seconds}"><title>请稍后重试</title>
<style>body{{font-family:sans-serif;margin:3em 1.5em;color:#333;text-align:center}}h1{{font-size:1.4em}}</style>
</head><body><h1>请稍后重试</h1><p>系统正在恢复，您的链接仍然有效。页面将在 {seconds} 秒后自动刷新。</p>
<p lang="en">The service is briefly unavailable; this page retries by itself.</p></body></html>
"""


def unavailable(dependency, exc):
    """503 with Retry-After: JSON for the API, a Chinese "please retry" page for a phone's browser."""
    outage = OUTAGES.get(dependency)
    if outage is not None:
        outage.failed(exc)
    if not request.path.startswith("/api/") and request.accept_mimetypes.accept_html:
        response = Response(RETRY_PAGE.format(seconds=RETRY_AFTER), 503, mimetype="text/html")
    else:
        response, _ = error_response(503, f"{dependency} unavailable; try again in {RETRY_AFTER} s / 服务暂不可用，请稍后重试")
        response.status_code = 503
    response.headers["Retry-After"] = str(RETRY_AFTER)
    return response


def dependency_of(exc):
    """The dependency an exception says is away ("mongodb", "rabbitmq"), or None when it is a real error."""
    if isinstance(exc, PyMongoError) and mongo.is_transient(exc):
        return "mongodb"
    if isinstance(exc, AMQPError):
        return "rabbitmq"
    return None


def observe_requests(app, process):
    """Request ids (X-Request-Id in and out), an access log line and metrics for every request."""
    @app.before_request
    def start():
        g.started = time.monotonic()
        g.request_id = observe.clean_request_id(request.headers.get(REQUEST_ID_HEADER)) or uuid.uuid4().hex
        g.request_id_token = observe.REQUEST_ID.set(g.request_id)

    def logged_path():
        """The path, an invitation token in it (`/s/<token>`) replaced by the start of its digest: logs, like
        the database, must not hold links that answer as an enterprise (the digest still finds the record)."""
        token = (request.view_args or {}).get("token")
        if not isinstance(token, str) or not token:
            return request.path
        return request.path.replace(token, "~" + hashlib.sha256(token.encode()).hexdigest()[:12])

    @app.after_request
    def finish(response):
        started = g.get("started")
        if started is None:
            return response
        seconds = time.monotonic() - started
        route = request.url_rule.rule if request.url_rule is not None else "unmatched"
        response.headers[REQUEST_ID_HEADER] = g.request_id
        observe.HTTP_REQUESTS.labels(process, request.method, route, str(response.status_code)).inc()
        observe.HTTP_SECONDS.labels(process, route).observe(seconds)
        if route not in ("/metrics", "/healthz", "/readyz"):
            path = logged_path()
            access_log.info("%s %s %s %.1f ms", request.method, path, response.status_code, seconds * 1000,
                            extra={"method": request.method, "path": path, "route": route,
                                   "status": response.status_code, "ms": round(seconds * 1000, 1),
                                   "remote": request.remote_addr})
        return response

    @app.teardown_request
    def forget(_exc):
        token = g.pop("request_id_token", None)
        if token is not None:
            observe.REQUEST_ID.reset(token)


def metrics_route(app, collectors=()):
    """`/metrics` in Prometheus' text format; `collectors` add figures read at scrape time."""
    @app.get("/metrics")
    def metrics():
        return Response(observe.metrics_text(collectors), mimetype="text/plain; version=0.0.4")


PAGE_CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
            "object-src 'none'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
DOCS_CSP = PAGE_CSP.replace("script-src 'self'", "script-src 'self' 'unsafe-inline'")  # swagger-ui's inline boot


def security_headers(response):
    """On every answer of both services, pages and errors alike, unless a view chose stricter ones.

    The respondent's link carries its token and the visit page keeps a cadre key in localStorage on the
    same origin, so: no framing, no sniffing, no referrer (the token must not leak to another site).
    """
    headers = response.headers
    docs = request.path == "/docs" or request.path.startswith("/docs/")
    headers.setdefault("Content-Security-Policy", DOCS_CSP if docs else PAGE_CSP)
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "no-referrer")
    return response


def create_api(app, title, description):
    app.config.update(
        API_TITLE=title, API_VERSION="v1", OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/", OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs", OPENAPI_SWAGGER_UI_URL="/docs-assets/",
        API_SPEC_OPTIONS={"info": {"description": description},
                          "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
                          "security": [{"bearer": []}]},
        MAX_CONTENT_LENGTH=MAX_BODY, JSON_AS_ASCII=False)
    app.json = SafeJSONProvider(app)
    app.json.ensure_ascii = False
    api = Api(app)
    app.after_request(security_headers)

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
        response, status = error_response(exc.code, message, errors)
        for name, value in exc.get_headers():
            if name.lower() != "content-type":  # keep Allow on 405, Retry-After, WWW-Authenticate, …
                response.headers[name] = value
        return response, status

    @app.errorhandler(Refused)
    def refused(exc):
        if exc.code == 503:  # a dependency away: Retry-After, the retry page, one warning per outage
            return unavailable("mongodb", exc.__cause__ or exc)
        response, status = error_response(exc.code, exc.message, exc.errors)
        if status == 429:
            response.headers["Retry-After"] = "60"
        return response, status

    @app.errorhandler(Exception)
    def unexpected(exc):
        dependency = dependency_of(exc)
        if dependency is not None:  # an expected outage: one warning, not a stack trace per request
            return unavailable(dependency, exc)
        log.exception("unhandled error")
        return error_response(500, "internal error; it has been logged")

    return api


def download(content, mimetype, filename, ascii_name=None):
    """A file to save: RFC 6266 `filename*` in UTF-8, and `filename` an ASCII name of our choosing (`ascii_name`,
    else `filename` stripped to ASCII), so that `curl -OJ` and old clients save something sane."""
    response = send_file(io.BytesIO(content), mimetype=mimetype)
    response.headers["Content-Disposition"] = content_disposition(filename, ascii_name or filename)
    return response


def behind_proxies(app, hops, trusted=""):
    """Trust the X-Forwarded-For/-Proto/-Host of `hops` reverse proxies (TLS terminators) in front.

    Without it, behind a proxy every client has the proxy's address, so one client's rate limit is the
    whole county's, and the dashboard's same-origin check and secure cookie see plain http. The headers
    are believed only from a peer inside `trusted` (CIDRs): a client that reaches the process directly
    cannot name itself anyone by sending X-Forwarded-For.
    """
    if hops > 0:
        app.wsgi_app = ForwardedClient(ProxyFix(app.wsgi_app, x_for=0, x_proto=hops, x_host=hops),
                                       app.wsgi_app, hops, trusted)


class ForwardedClient:
    """The client is the right-most address of [X-Forwarded-For…, peer] that is not a trusted proxy,
    looking at most `hops` proxies deep; untrusted peers' forwarding headers are ignored."""

    def __init__(self, proxied, direct, hops, trusted):
        self.proxied, self.direct, self.hops = proxied, direct, hops
        self.networks = [ipaddress.ip_network(c.strip(), strict=False) for c in trusted.split(",") if c.strip()]

    def trusted(self, address):
        try:
            ip = ipaddress.ip_address(address.strip())
        except ValueError:
            return False
        return any(ip in network for network in self.networks)

    def __call__(self, environ, start_response):
        if not self.trusted(environ.get("REMOTE_ADDR", "")):
            return self.direct(environ, start_response)
        chain = [a.strip() for a in environ.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()]
        chain.append(environ.get("REMOTE_ADDR", ""))
        steps = 0
        while steps < self.hops and len(chain) > 1 and self.trusted(chain[-1]):
            chain.pop()
            steps += 1
        environ["REMOTE_ADDR"] = chain[-1]  # the right-most hop no trusted proxy vouches for beyond
        return self.proxied(environ, start_response)


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
                if name in OUTAGES:
                    OUTAGES[name].recovered()
            except Exception as exc:  # any failure means not ready; say which and why
                ready = False
                results[name] = {"ok": False, "error": repr(exc)[:200]}
                if name in OUTAGES:
                    OUTAGES[name].failed(exc)
        return {"ready": ready, "checks": results}, 200 if ready else 503
