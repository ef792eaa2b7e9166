"""App factory of the survey service: wires the store, keys, outbox and blueprints."""
import importlib
import logging
from dataclasses import dataclass

from flask import Flask, request
from pymongo.errors import PyMongoError

from services.survey.keys.store import ensure_admin_key
from services.survey.outbox import Outbox
from services.survey.store import SurveyStore
from shared import config as config_module
from shared.keys import KeyRing
from shared.web import RateLimiter, behind_proxies, create_api, error_response, health_routes

log = logging.getLogger(__name__)
PUBLIC_PREFIXES = ("/api/v1/responses", "/s/")
# One package per feature; each api module holds its blueprint.
BLUEPRINT_MODULES = ("keys.api", "departments.api", "enterprises.api", "surveys.api", "surveys.xlsform_api",
                     "invitations.api", "answers.api", "visits.api", "demands.api", "responses.api")


@dataclass
class SurveyServices:
    config: config_module.Config
    store: SurveyStore
    keyring: KeyRing
    outbox: Outbox
    limiter: RateLimiter
    indexes_ready: bool = False

    def ensure_indexes(self):
        # Unique indexes (key digests, survey versions, …) back rules that are never read-then-write:
        # no request is served before they exist.
        if not self.indexes_ready:
            self.store.ensure_indexes()
            ensure_admin_key(self.store, self.config)
            self.indexes_ready = True


def create_app(config=None, background=True):
    config = config or config_module.load()
    app = Flask(__name__)
    behind_proxies(app, config.proxy_hops)
    api = create_api(app, "Manyi survey service",
                     "Keys, departments, enterprises, surveys, invitations and answers (DESIGN §3–4).")
    # Keep the order errors are built in (an import's rows 2, 3, … 13, not "row 13" before "row 2").
    app.json.sort_keys = False
    store = SurveyStore(config)
    services = SurveyServices(config, store, KeyRing(store.keys, config.admin_key), Outbox(store, config),
                              RateLimiter(config.rate_limit))
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

    from services.survey.answers import page as respondent
    from services.survey.demands import ledger
    from services.survey.visits import page as visit_page
    for module in BLUEPRINT_MODULES:
        api.register_blueprint(importlib.import_module(f"services.survey.{module}").blp)
    for page in (respondent.page, visit_page.page):  # the pages phones open (not in the OpenAPI document)
        app.register_blueprint(page)
    services.outbox.add_duty(config.overdue_sweep_seconds, lambda: ledger.sweep_overdue(services))

    health_routes(app, {"mongodb": store.ping,
                        "rabbitmq": lambda: services.outbox.publisher().ping() or _raise("broker unreachable")})
    if background:
        services.outbox.start()
    return app


def _raise(message):
    raise ConnectionError(message)
