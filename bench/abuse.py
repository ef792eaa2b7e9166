"""Slow clients and one client's flood against the real processes (issue 11); prints figures.

    .venv/bin/python bench/abuse.py            # starts its own MongoDB, vhost and processes

1. 96 half-open connections (a partial request head each, then silence) are held open against the
   survey service and the gateway; meanwhile /healthz and a real answer are timed (target: < 1 s).
2. 600 requests from one client to the public answer endpoint within one rate-limit window, spread over
   every gunicorn worker: how many pass a limit of MANYI_RATE_LIMIT (target: the limit ± 10%).
"""
import concurrent.futures
import socket
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests import harness  # noqa: E402

HALF_OPEN = 96


def timed_get(url, key=None):
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {key}"} if key else {})
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            status = r.status
    except urllib.error.HTTPError as e:
        status = e.code
    return status, time.monotonic() - started


def hold_half_open(port, count=HALF_OPEN):
    """`count` connections that sent the start of a request head and nothing more."""
    held = []
    for i in range(count):
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(b"POST /api/v1/responses HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  if i % 2 else b"GET /api/v1/departments HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
        held.append(s)
    return held


def slow_clients(survey_url, gateway_url, admin_key):
    """{what: (status, seconds)} while HALF_OPEN half-open connections are held against each service."""
    ports = [int(survey_url.rsplit(":", 1)[1]), int(gateway_url.rsplit(":", 1)[1])]
    held = [s for port in ports for s in hold_half_open(port)]
    try:
        time.sleep(0.5)  # let every worker take its share of them
        return {"survey /healthz": timed_get(survey_url + "/healthz"),
                "survey GET /api/v1/departments": timed_get(survey_url + "/api/v1/departments", admin_key),
                "gateway /healthz": timed_get(gateway_url + "/healthz"),
                "gateway GET /api/v1/periods": timed_get(gateway_url + "/api/v1/periods", admin_key)}
    finally:
        for s in held:
            s.close()


def flood(survey_url, requests=600, threads=8):
    """Statuses of `requests` answers from one client, all inside one one-minute window."""
    while time.time() % 60 > 30:  # start early in a window, so the whole flood counts against one
        time.sleep(0.5)

    def post(_):
        req = urllib.request.Request(survey_url + "/api/v1/responses", data=b'{"token": "none", "answers": {}}',
                                     headers={"Content-Type": "application/json"}, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status
        except urllib.error.HTTPError as e:
            return e.code
    started = time.time()
    with concurrent.futures.ThreadPoolExecutor(threads) as pool:
        statuses = list(pool.map(post, range(requests)))
    return statuses, started, time.time()


def main():
    mongo = harness.MongoServer().start()
    vhost = harness.RabbitVhost().create()
    try:
        config, variables = harness.make_config(mongo.url, vhost.url, MANYI_RATE_LIMIT="120")
        procs = harness.Processes(variables, workers=4).start()
        try:
            for what, (status, seconds) in slow_clients(procs.survey_url, procs.gateway_url, config.admin_key).items():
                print(f"with {HALF_OPEN} half-open connections held: {what} -> {status} in {seconds * 1000:.0f} ms")
            statuses, started, ended = flood(procs.survey_url)
            passed = sum(1 for s in statuses if s != 429)
            print(f"flood: {len(statuses)} requests from one client in {ended - started:.1f} s over 4 workers: "
                  f"{passed} passed (limit {config.rate_limit}/min), {statuses.count(429)} got 429")
        finally:
            procs.stop_all()
    finally:
        vhost.delete()
        mongo.cleanup()


if __name__ == "__main__":
    main()
