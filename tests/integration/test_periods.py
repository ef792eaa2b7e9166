"""One definition of a period: the gateway refuses what is not exactly a quarter `YYYYQn` or a year `YYYY`."""
import pytest

import gateway
from tests.harness import make_config

NOT_PERIODS = ["2026Q4\n", "2026\n", "2026Q5", "2026q4", " 2026Q4", "26Q4"]


@pytest.fixture
def client(mongo_server):
    config, _ = make_config(mongo_server.url, "amqp://guest:guest@127.0.0.1:1/%2F")
    app = gateway.create_app(config)
    return app.test_client(), {"Authorization": f"Bearer {config.admin_key}"}


@pytest.mark.parametrize("period", NOT_PERIODS)
def test_the_gateway_refuses_a_period_that_is_not_exactly_a_quarter_or_a_year(client, period):
    http, admin = client
    for path in ("/api/v1/indices", "/api/v1/demands/stats", "/api/v1/nps"):
        reply = http.get(path, query_string={"period": period}, headers=admin)
        assert reply.status_code == 400 and "period" in reply.json["errors"], (path, reply.json)
    reply = http.get(f"/api/v1/reports/{period.replace(chr(10), '%0A')}.xlsx", headers=admin)
    assert reply.status_code in (400, 404) and "errors" in reply.json


def test_a_quarter_and_a_year_are_accepted(client):
    http, admin = client
    for period in ("2026Q4", "2026"):
        assert http.get("/api/v1/indices", query_string={"period": period}, headers=admin).status_code == 200
