"""App factory of the gateway."""
from dataclasses import dataclass, field

from flask import Flask, request

from gateway.figures import Figures
from gateway.releases import Releases
from gateway.sessions import Sessions
from shared import config as config_module
from shared import mongo
from shared.keys import KeyRing
from shared.limits import SharedLimiter
from shared.web import behind_proxies, create_api, health_routes, metrics_route, observe_requests


@dataclass
class GatewayServices:
    config: config_module.Config
    figures: Figures
    keyring: KeyRing
    sessions: Sessions = None
    releases: Releases = None  # what portal keys read: released figures, protected (gateway/releases.py)
    report_sheets: list = field(default_factory=list)  # extra report sheets: (figures, period) → reports.Sheet


def create_app(config=None):
    config = config or config_module.load()
    app = Flask(__name__)
    behind_proxies(app, config.proxy_hops, config.trusted_proxies)
    observe_requests(app, "gateway")
    rest = create_api(app, "Manyi gateway", "Read-only satisfaction indices for portals and leaders (DESIGN §6).")
    figures = Figures(config)
    sessions = Sessions(mongo.client(config.mongo_url)[config.gateway_db].sessions, figures.keys, config.admin_key)
    limits = mongo.client(config.mongo_url)[config.gateway_db].limits
    keyring = KeyRing(figures.keys, config.admin_key, sessions.current,
                      failures=SharedLimiter(limits, config.auth_failures, "auth"),
                      note_use=False)  # the keys are the survey service's; the gateway never writes its database
    app.extensions["manyi"] = GatewayServices(config, figures, keyring, sessions, Releases(config, figures.client))
    from gateway import api, choices, dashboard, demands, reports, segments, trends
    for module in (api, segments, trends, demands, choices, reports):
        rest.register_blueprint(module.blp)
    app.register_blueprint(dashboard.page)
    app.extensions["manyi"].report_sheets += [demands.demand_sheet, choices.choice_sheet]
    health_routes(app, {"mongodb": figures.ping})
    metrics_route(app)
    app.after_request(revalidate_json)
    return app


def revalidate_json(response):
    """Portals poll: every JSON GET carries an ETag of its body and answers 304 while nothing changed."""
    if request.method == "GET" and request.path.startswith("/api/") and response.status_code == 200 \
            and response.mimetype == "application/json":
        response.headers["Cache-Control"] = "private, no-cache"
        response.vary.add("Authorization")
        response.vary.add("Cookie")
        response.add_etag()
        response.make_conditional(request)
    return response
