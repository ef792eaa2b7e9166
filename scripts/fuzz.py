"""Schemathesis against both OpenAPI documents of a running stack (issue 11): `make fuzz`.

Starts its own MongoDB, RabbitMQ vhost and the three processes, makes a portal key, then runs
Schemathesis (pinned in pyproject.toml) with a fixed seed over the survey service (admin key, no key)
and the gateway (admin key, portal key, no key). It fails on any 5xx and on any answer that violates
the documented schema, and prints the requests, their statuses and the time taken.

    .venv/bin/python scripts/fuzz.py [--max-examples N] [--seed S]
"""
import argparse
import collections
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests import harness  # noqa: E402
from tests.api import HttpApi, ok  # noqa: E402

CHECKS = "not_a_server_error,response_schema_conformance"


def schemathesis(base_url, header, label, args, report_dir):
    har = Path(report_dir) / f"{label}.har"
    # One worker: with several threads, Python 3.11's ast.parse (which Hypothesis calls to describe its filters)
    # now and then raises "SystemError: AST constructor recursion depth mismatch" (CPython gh-106905), a
    # tool error that failed a CI run with no finding.
    command = [str(harness.BIN / "schemathesis"), "run", f"{base_url}/openapi.json", "--checks", CHECKS,
               "--seed", str(args.seed), "--max-examples", str(args.max_examples), "--workers", "1",
               "--generation-deterministic", "--no-color", "--suppress-health-check", "all",
               "--report", "har", "--report-har-path", str(har), "--request-timeout", "30", "--warnings", "off"]
    if header:
        command += ["--header", header]
    started = time.monotonic()
    run = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    elapsed = time.monotonic() - started
    statuses = collections.Counter()
    if har.exists():
        for entry in json.loads(har.read_text())["log"]["entries"]:
            statuses[entry["response"]["status"]] += 1
    return run, statuses, elapsed


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--max-examples", type=int, default=100)
    parser.add_argument("--seed", type=int, default=20261126)
    args = parser.parse_args()
    mongo, vhost = harness.MongoServer().start(), harness.RabbitVhost().create()
    failed, total, all_statuses, began = [], 0, collections.Counter(), time.monotonic()
    try:
        config, variables = harness.make_config(mongo.url, vhost.url, MANYI_AUTH_FAILURES="0")
        procs = harness.Processes(variables, workers=2).start()
        try:
            admin = config.admin_key
            # The gateway runs go first: the admin run of the survey service follows links from
            # GET /keys to DELETE /keys/{id} and would revoke the portal key.
            portal = ok(HttpApi(procs.survey_url)("POST", "/api/v1/keys", admin, {"role": "portal", "name": "fuzz"}), 201)
            runs = [(procs.gateway_url, f"Authorization: Bearer {admin}", "gateway-admin"),
                    (procs.gateway_url, f"Authorization: Bearer {portal['key']}", "gateway-portal"),
                    (procs.gateway_url, None, "gateway-no-key"),
                    (procs.survey_url, None, "survey-no-key"),
                    (procs.survey_url, f"Authorization: Bearer {admin}", "survey-admin")]
            with tempfile.TemporaryDirectory(prefix="manyi-fuzz-") as report_dir:
                for url, header, label in runs:
                    run, statuses, elapsed = schemathesis(url, header, label, args, report_dir)
                    requests = sum(statuses.values())
                    total += requests
                    all_statuses += statuses
                    print(f"{label}: {requests} requests in {elapsed:.0f} s, statuses {dict(sorted(statuses.items()))}, "
                          f"schemathesis exit {run.returncode}", flush=True)
                    if run.returncode != 0 or any(s >= 500 for s in statuses):
                        failed.append(label)
                        print(run.stdout[-6000:], run.stderr[-2000:], sep="\n")
        finally:
            procs.stop_all()
    finally:
        vhost.delete()
        mongo.cleanup()
    server_errors = sum(n for s, n in all_statuses.items() if s >= 500)
    print(f"fuzz: {total} requests in {time.monotonic() - began:.0f} s; statuses {dict(sorted(all_statuses.items()))}; "
          f"{server_errors} server errors; failed runs: {failed or 'none'}")
    return 1 if failed or server_errors else 0


if __name__ == "__main__":
    sys.exit(main())
