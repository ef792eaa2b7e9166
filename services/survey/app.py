"""App factory of the survey service: wires the store, keys, outbox and blueprints."""
import importlib
import logging

from flask import Flask, request
from pymongo.errors import PyMongoError

from services.survey.bootstrap import bootstrap
from services.survey.demands import ledger
from shared import config as config_module
from shared.web import behind_proxies, create_api, error_response, health_routes

log = logging.getLogger(__name__)
PUBLIC_PREFIXES = ("/api/v1/responses", "/s/")
# One package per feature; each api module holds its blueprint.
BLUEPRINT_MODULES = ("keys.api", "departments.api", "enterprises.api", "surveys.api", "surveys.xlsform_api",
                     "invitations.api", "answers.api", "visits.api", "demands.api", "releases.api")
PAGE_MODULES = ("answers.page", "visits.page")


def create_app(config=None, background=True):
    config = config or config_module.load()
    app = Flask(__name__)
    behind_proxies(app, config.proxy_hops)
    api = create_api(app, "Manyi survey service",
                     "Keys, departments, enterprises, surveys, invitations and answers (DESIGN §3–4).")
    services = bootstrap(config)
    app.extensions["manyi"] = services

    @app.before_request
    def before():
        if request.path.startswith(PUBLIC_PREFIXES) and not services.limiter.allow(request.remote_addr or "-"):
            return error_response(429, "too many requests from this address; try again in a minute")
        if request.path.startswith(("/api/", "/s/")):
            try:
                services.ensure_indexes()
            except PyMongoError as exc:
                log.warning("database unavailable: %r", exc)
                return error_response(503, "database unavailable; try again shortly")
        return None

    for module in BLUEPRINT_MODULES:
        api.register_blueprint(importlib.import_module(f"services.survey.{module}").blp)
    for module in PAGE_MODULES:  # the pages phones open (not in the OpenAPI document)
        app.register_blueprint(importlib.import_module(f"services.survey.{module}").page)
    services.scheduler.every(config.overdue_sweep_seconds, lambda: ledger.sweep_overdue(services))

    health_routes(app, {"mongodb": services.store.ping,
                        "rabbitmq": lambda: services.outbox.publisher().ping() or _raise("broker unreachable")})
    if background:
        services.outbox.start()
        services.scheduler.start()
    return app


def _raise(message):
    raise ConnectionError(message)
