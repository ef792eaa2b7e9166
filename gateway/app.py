"""App factory of the gateway."""
from dataclasses import dataclass, field

from flask import Flask, request

from gateway.figures import Figures
from gateway.sessions import Sessions
from shared import config as config_module
from shared import mongo
from shared.keys import KeyRing
from shared.web import behind_proxies, create_api, health_routes


@dataclass
class GatewayServices:
    config: config_module.Config
    figures: Figures
    keyring: KeyRing
    sessions: Sessions = None
    report_sheets: list = field(default_factory=list)  # extra report sheets: (figures, period) → reports.Sheet


def create_app(config=None):
    config = config or config_module.load()
    app = Flask(__name__)
    behind_proxies(app, config.proxy_hops)
    rest = create_api(app, "Manyi gateway", "Read-only satisfaction indices for portals and leaders (DESIGN §6).")
    figures = Figures(config)
    sessions = Sessions(mongo.client(config.mongo_url)[config.gateway_db].sessions, figures.keys, config.admin_key)
    app.extensions["manyi"] = GatewayServices(config, figures, KeyRing(figures.keys, config.admin_key, sessions.current),
                                              sessions)
    from gateway import api, dashboard, demands, reports, segments, trends
    for module in (api, segments, trends, demands, reports):
        rest.register_blueprint(module.blp)
    app.register_blueprint(dashboard.page)
    app.extensions["manyi"].report_sheets.append(demands.demand_sheet)
    health_routes(app, {"mongodb": figures.ping})
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
