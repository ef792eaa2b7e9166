"""The workers' health endpoints (shared/health_server.py), served for real on a loopback port."""
import json
import urllib.error
import urllib.request

import pytest

from shared import health_server


class Health:
    mongo_ok = None

    def snapshot(self):
        return {"ready": bool(self.mongo_ok), "mongodb": self.mongo_ok}


def get(server, path):
    url = f"http://127.0.0.1:{server.server_address[1]}{path}"
    try:
        with urllib.request.urlopen(url, timeout=5) as reply:
            return reply.status, reply.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


@pytest.fixture
def serve():
    servers = []

    def start(readiness, metrics):
        servers.append(health_server.serve(0, readiness, metrics))
        return servers[-1]
    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_ready_only_when_the_database_answers(serve):
    health, answering = Health(), {"up": True}

    def ping():
        if not answering["up"]:
            raise ConnectionError("away")
    server = serve(lambda: health_server.pinged(health, ping), lambda: "manyi_up 1\n")
    assert server.server_address[0] == "127.0.0.1"
    assert get(server, "/healthz") == (200, b'{"status": "ok"}')
    status, body = get(server, "/readyz")
    assert status == 200 and json.loads(body)["mongodb"] is True
    answering["up"] = False
    status, body = get(server, "/readyz")
    assert status == 503 and json.loads(body) == {"ready": False, "mongodb": False}
    assert get(server, "/metrics") == (200, b"manyi_up 1\n")
    assert get(server, "/nothing")[0] == 404


def test_a_scrape_that_cannot_be_answered_is_503_not_a_hang(serve):
    def metrics():
        raise TimeoutError("database away")
    server = serve(lambda: {"ready": False}, metrics)
    status, body = get(server, "/metrics")
    assert status == 503 and "database away" in json.loads(body)["message"]
