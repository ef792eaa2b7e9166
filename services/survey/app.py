"""App factory of the survey service: wires the store, keys, outbox and blueprints."""
import importlib
import logging

from flask import Flask, make_response, request

from services.survey.bootstrap import bootstrap
from services.survey.console.store import COOKIE as CONSOLE_COOKIE
from services.survey.console.store import ConsoleSessions
from services.survey.demands import ledger
from services.survey.flags.use_cases import scan as scan_flags
from shared import config as config_module
from shared import mongo
from shared.errors import Unavailable
from shared.web import (
    behind_proxies,
    create_api,
    error_response,
    health_routes,
    metrics_route,
    observe_requests,
    unavailable,
)

log = logging.getLogger(__name__)
PUBLIC_PREFIXES = ("/api/v1/responses", "/s/")
# One package per feature; each api module holds its blueprint.
BLUEPRINT_MODULES = ("keys.api", "departments.api", "enterprises.api", "surveys.api", "surveys.xlsform_api",
                     "invitations.api", "answers.api", "visits.api", "demands.api", "webhooks.api", "releases.api", "responses.api",
                     "exclusions.api", "appeals.api", "audit.api", "flags.api")
PAGE_MODULES = ("answers.page", "visits.page", "console")  # console: the 营商办 and departments' pages


def create_app(config=None, background=True):
    config = config or config_module.load()
    app = Flask(__name__)
    behind_proxies(app, config.proxy_hops, config.trusted_proxies)
    api = create_api(app, "Manyi survey service",
                     "Keys, departments, enterprises, surveys, invitations and answers (DESIGN §3–4).")
    # Keep the order errors are built in (an import's rows 2, 3, … 13, not "row 13" before "row 2").
    app.json.sort_keys = False
    services = bootstrap(config)
    app.extensions["manyi"] = services
    observe_requests(app, "survey")
    mongo.announce_sessions(services.store.db)  # a survivor can end this process's open transaction if it is killed
    console_sessions = app.extensions["manyi.console"] = ConsoleSessions(services.store["console_sessions"],
                                                                           services.keyring)
    # A signed-in console session also reads the GET endpoints (the downloads it links to); writes need a key.
    services.keyring.session_record = lambda: console_sessions.lookup(request.cookies.get(CONSOLE_COOKIE))[1]

    @app.before_request
    def before():
        if request.path.startswith(PUBLIC_PREFIXES) and not services.limiter.hit(request.remote_addr or "-"):
            return too_many_requests()
        if request.path.startswith(("/api/", "/s/", "/console")):
            try:
                services.ensure_indexes()
            except Unavailable as exc:
                return unavailable("mongodb", exc.__cause__ or exc)
        return None

    for module in BLUEPRINT_MODULES:
        api.register_blueprint(importlib.import_module(f"services.survey.{module}").blp)
    for module in PAGE_MODULES:  # the pages phones open (not in the OpenAPI document)
        app.register_blueprint(importlib.import_module(f"services.survey.{module}").page)
    services.scheduler.every(config.overdue_sweep_seconds, lambda: ledger.sweep_overdue(services))
    services.scheduler.every(config.flag_scan_seconds, lambda: scan_flags(services))

    health_routes(app, {"mongodb": services.store.ping,
                        "rabbitmq": lambda: services.outbox.publisher().ping() or _raise("broker unreachable")})
    metrics_route(app, [services.outbox.collector()])
    if background:
        services.outbox.start()
        services.scheduler.start()
    return app


def too_many_requests():
    """429 in Chinese for the phone that tripped the limit: a page for the respondent's page, JSON for the API."""
    if request.path.startswith("/s/"):
        from services.survey.answers.page import message
        body, status = message(429, kind="closed", badge="!", heading="访问过于频繁",
                               text="您的网络提交过于频繁，请一分钟后再打开链接。")
        response = make_response(body, status)
    else:
        response, status = error_response(429, "请求过于频繁，请一分钟后再试 / too many requests; try again in a minute",
                                          {"request": ["请求过于频繁，请一分钟后再试", "too many requests from this address"]})
        response.status_code = status
    response.headers["Retry-After"] = "60"
    return response


def _raise(message):
    raise ConnectionError(message)
