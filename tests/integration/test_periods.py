"""One definition of a period: both web processes refuse what is not exactly a quarter `YYYYQn`."""
import pytest

import gateway
from tests.harness import make_config

NOT_QUARTERS = ["2026Q4\n", "2026Q5", "2026q4", " 2026Q4", "2026"]


@pytest.fixture
def client(mongo_server):
    config, _ = make_config(mongo_server.url, "amqp://guest:guest@127.0.0.1:1/%2F")
    app = gateway.create_app(config)
    return app.test_client(), {"Authorization": f"Bearer {config.admin_key}"}


@pytest.mark.parametrize("period", NOT_QUARTERS)
def test_the_gateway_refuses_a_period_that_is_not_exactly_a_quarter(client, period):
    http, admin = client
    for path in ("/api/v1/indices", "/api/v1/demands/stats", "/api/v1/nps"):
        reply = http.get(path, query_string={"period": period}, headers=admin)
        assert reply.status_code == 400 and "period" in reply.json["errors"], (path, reply.json)
    reply = http.get(f"/api/v1/reports/{period.replace(chr(10), '%0A')}.xlsx", headers=admin)
    assert reply.status_code in (400, 404) and "errors" in reply.json


def test_a_quarter_is_accepted(client):
    http, admin = client
    assert http.get("/api/v1/indices", query_string={"period": "2026Q4"}, headers=admin).status_code == 200
