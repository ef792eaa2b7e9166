"""App factory of the gateway."""
from dataclasses import dataclass

from flask import Flask

from gateway.figures import Figures
from shared import config as config_module
from shared.keys import KeyRing
from shared.web import create_api, health_routes


@dataclass
class GatewayServices:
    config: config_module.Config
    figures: Figures
    keyring: KeyRing


def create_app(config=None):
    config = config or config_module.load()
    app = Flask(__name__)
    api = create_api(app, "Manyi gateway", "Read-only satisfaction indices for portals and leaders (DESIGN §6).")
    figures = Figures(config)
    app.extensions["manyi"] = GatewayServices(config, figures, KeyRing(figures.keys, config.admin_key))
    from gateway import api as indices_api
    api.register_blueprint(indices_api.blp)
    from gateway import demands as demand_stats
    api.register_blueprint(demand_stats.blp)
    health_routes(app, {"mongodb": figures.ping})
    return app
