"""Fault benchmark (issue 10): answers stream in over HTTP while one component is killed, then restored.

Per scenario it prints: answers accepted (202), counted (applied once by scoring), lost (accepted, never
counted), double (counted more than once), client errors by status while the fault lasted, seconds from
the restore to every process ready, and seconds from the last 202 to the gateway showing every answer.
Each scenario has its own MongoDB server, and its own RabbitMQ node where the broker is killed; the
machine's shared broker is never touched.

    .venv/bin/python bench/faults.py [--answers 150] [--only worker-kill,poison]
"""
import argparse
import os
import signal
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.faults.scenario import County, publish_raw  # noqa: E402
from tests.faults.test_poison import NESTED  # noqa: E402
from tests.faults.test_transactions import kill_inside_transaction  # noqa: E402
from tests.harness import MongoServer, Processes, RabbitNode, RabbitVhost, _status, make_config, poll  # noqa: E402

FAULT_SECONDS = 8


def wait_ready(urls, timeout=120):
    for url in urls:
        poll(lambda url=url: _status(url + "/readyz") == 200, timeout, 0.1, f"{url}/readyz")


class Run:
    def __init__(self, name, n, own_broker=False):
        self.name, self.n, self.own_broker = name, n, own_broker

    def __enter__(self):
        self.mongo = MongoServer().start()
        self.broker = RabbitNode().start() if self.own_broker else RabbitVhost().create()
        self.config, self.variables = make_config(self.mongo.url, self.broker.url)
        self.procs = Processes(self.variables).start()
        self.county = County(self.procs, self.config, self.n)
        return self

    def __exit__(self, *exc):
        if exc[0] is not None:  # what the processes said, for whoever reads a failed scenario
            for name in ("survey", "scoring", "gateway"):
                print(f"--- last lines of {name}'s log:\n" + "\n".join(self.procs.log(name).splitlines()[-12:]),
                      file=sys.stderr)
        self.procs.stop_all()
        if self.own_broker:
            self.broker.cleanup()
        else:
            self.broker.delete()
        self.mongo.cleanup()

    @property
    def urls(self):
        return (self.procs.survey_url, self.procs.gateway_url, self.procs.worker_health_url)

    def play(self, fault, restore):
        """Answer all `n` while `fault()` happens a third of the way in and `restore()` FAULT_SECONDS later."""
        county = self.county
        load = threading.Thread(target=county.answer_all, args=(range(self.n),))
        load.start()
        poll(lambda: len(county.accepted) >= self.n // 3, 120, 0.05, "a third accepted")
        before = dict(county.statuses)
        fault()
        time.sleep(FAULT_SECONDS)
        restored = time.monotonic()
        restore()
        wait_ready(self.urls)
        ready_s = time.monotonic() - restored
        during = {k: v - before.get(k, 0) for k, v in county.statuses.items() if k != 202 and v - before.get(k, 0)}
        load.join()
        try:
            poll(lambda: county.gateway_n() == self.n, 180, 0.1, "the gateway showing every answer")
        except AssertionError:
            survey = county.survey_db()
            print(f"gateway n {county.gateway_n()} of {self.n}; lost, double {county.tally()}; unpublished answers "
                  f"{survey.responses.count_documents({'published': False})}; statuses {county.statuses}",
                  file=sys.stderr)
            raise
        shown_s = time.monotonic() - county.last_202_at
        lost, double = county.wait_counted(5) if county.tally()[0] == 0 else county.tally()
        return {"scenario": self.name, "accepted": len(county.accepted), "counted": len(county.accepted) - lost,
                "lost": lost, "double": double, "errors": during, "ready_s": ready_s, "shown_s": shown_s}


def worker_kill(n):
    with Run("worker kill -9", n) as run:
        return run.play(lambda: run.procs.stop("scoring", signal.SIGKILL), run.procs.start_worker)


def database_kill(n):
    with Run("database kill -9", n) as run:
        return run.play(run.mongo.kill, run.mongo.start)


def broker_kill(n):
    with Run("broker kill -9", n, own_broker=True) as run:
        return run.play(run.broker.kill, run.broker.start)


def poison(n):
    with Run("poison messages", n) as run:
        def inject():
            publish_raw(run.config.amqp_url, NESTED, message_id="poison-nested")
            publish_raw(run.config.amqp_url, b"\xff\xfe", message_id="poison-bytes")
        return run.play(inject, lambda: None)


def kill_in_transaction(n):
    with Run("kill -9 inside a transaction", n) as run:
        def hold():
            # The answers still to come: their ids held by a worker killed inside its transaction.
            # The last ones: an answer whose 202 is still on its way is stored but not yet in `accepted`, and
            # holding its id would collide with it (answers go out in order, the fault comes a third of the way in).
            ids = [c for c in run.county.codes[-20:] if c not in run.county.accepted]
            from services.survey.answers.accept import response_id_of
            kill_inside_transaction(run.config.mongo_url, run.config.survey_db, "responses",
                                    [response_id_of("s1", code) for code in ids])
            processed = [f"held-{i}" for i in range(5)]
            kill_inside_transaction(run.config.mongo_url, run.config.scores_db, "processed", processed)
        return run.play(hold, lambda: None)


SCENARIOS = {"worker-kill": worker_kill, "database-kill": database_kill, "broker-kill": broker_kill,
             "poison": poison, "kill-in-transaction": kill_in_transaction}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--answers", type=int, default=150)
    parser.add_argument("--only", default="", help="comma-separated: " + ", ".join(SCENARIOS))
    args = parser.parse_args()
    names = [s for s in args.only.split(",") if s] or list(SCENARIOS)
    os.environ.setdefault("WEB_CONCURRENCY", "2")
    rows = []
    for name in names:
        print(f"… {name}", file=sys.stderr, flush=True)
        try:
            rows.append(SCENARIOS[name](args.answers))
        except Exception as exc:  # a scenario that fails is reported, the others still run
            print(f"✗ {name}: {exc!r}"[:500], file=sys.stderr, flush=True)
            rows.append({"scenario": f"{name} (FAILED)", "accepted": 0, "counted": 0, "lost": -1, "double": -1,
                         "errors": {"failed": str(exc)[:80]}, "ready_s": float("nan"), "shown_s": float("nan")})
        print(f"  {rows[-1]}", file=sys.stderr, flush=True)
    print(f"\nfault benchmark: {args.answers} answers per scenario, each fault held {FAULT_SECONDS} s "
          f"(a third of the way in)\n")
    header = f"{'scenario':30} {'accepted':>8} {'counted':>8} {'lost':>5} {'double':>6}  {'restore→ready':>13}" \
             f"  {'last 202→shown':>14}  client errors during the fault"
    print(header)
    print("-" * len(header))
    for r in rows:
        errors = ", ".join(f"{k}: {v}" for k, v in sorted(r["errors"].items(), key=str)) or "none"
        print(f"{r['scenario']:30} {r['accepted']:8d} {r['counted']:8d} {r['lost']:5d} {r['double']:6d}  "
              f"{r['ready_s']:12.1f}s  {r['shown_s']:13.1f}s  {errors}")
    return 0 if all(r["lost"] == 0 and r["double"] == 0 for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
