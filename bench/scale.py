"""Scale benchmark (issue 13): reads that stay flat from 10k to 1M ratings in a period, the worker's
rate, `manyi rescore` and `manyi check` times, and the gateway's memory.

For each size it generates a county (100 departments of 1–3 indicators, enterprises with the five
segment attributes, answers of about 10 ratings, 10% cadre visits of 3) in one quarter (so the quarter
and its year each hold N ratings) and loads it through the worker's own transaction
(`ScoresStore.apply_batch`, in batches of 200 messages as the worker takes them) — exactly what the
worker writes, without the broker in between. The worker process itself, through RabbitMQ, is
measured separately on a pre-filled queue. Then, against the real gateway under gunicorn:
  cold  = the first read after a new commit into the period (the cache must be rebuilt), p50/p99;
  warm  = repeated reads, p50, against a bare Flask GET of the same JSON body (bench/bare_app.py);
and the gateway workers' RSS, `manyi rescore` and `manyi check` (separate processes: time, peak RSS).
Figures, not pass/fail (bench/README.md).
"""
import argparse
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pymongo import MongoClient  # noqa: E402
from pymongo.errors import PyMongoError  # noqa: E402

from services.scoring.repository import ScoresStore  # noqa: E402
from shared import amqp, messages  # noqa: E402
from tests.api import HttpApi, Reply  # noqa: E402
from tests.factories import uscc  # noqa: E402
from tests.harness import MongoServer, Processes, RabbitVhost, free_port, make_config, poll  # noqa: E402

PERIOD, YEAR = "2026Q3", "2026"
DEPARTMENTS = [f"d{i:03d}" for i in range(100)]


def indicators_of(department):
    """1–3 indicators per department (d000: one, d001: two, d002: three, …)."""
    return [f"{department}-i{k}" for k in range(1 + int(department[1:]) % 3)]
TOWNSHIPS = [f"镇{i}" for i in range(12)]
INDUSTRIES = [f"行业{i}" for i in range(15)]
LEVEL_MIX = (5,) * 8 + (4,) * 7 + (3,) * 3 + (2, 1)
SCALE = {1: 0.0, 2: 25.0, 3: 50.0, 4: 75.0, 5: 100.0}
BATCH = 200
T0 = datetime(2026, 7, 1, tzinfo=UTC)


def county_enterprises(rng, n):
    return [{"code": uscc(rng), "scale": rng.choice(["large", "medium", "small", "micro"]),
             "ownership": rng.choice(["state", "private", "private", "collective", "other"]),
             "capital": rng.choice(["domestic"] * 4 + ["foreign"]), "township": rng.choice(TOWNSHIPS),
             "industry": rng.choice(INDUSTRIES)} for _ in range(n)]


def message(rng, serial, ent, departments=DEPARTMENTS):
    """One decoded event, as the worker receives it: a survey answer of ~10 ratings or a visit of 3."""
    visit = serial % 10 == 9
    departments = rng.sample(departments, 3 if visit else 10)
    ratings = []
    for d in departments:
        level = rng.choice(LEVEL_MIX)
        ratings.append({"department": d, "indicator": "visit" if visit else rng.choice(indicators_of(d)),
                        "weight": 1.0 if visit else rng.choice([1.0, 1.0, 2.0]), "level": level,
                        "points": SCALE[level], "question": None})
    return {"type": messages.VISIT_RECORDED if visit else messages.RESPONSE_SUBMITTED, "id": f"s{serial}",
            "schema_version": 1, "occurred_at": T0 + timedelta(seconds=serial),
            "data": {"source_id": f"s{serial}", "channel": "visit" if visit else "survey", "period": PERIOD,
                     "enterprise": ent, "ratings": ratings, "nps": None if visit else rng.randint(0, 10)}}


def county_messages(n_ratings, seed=7, departments=DEPARTMENTS):
    """Messages carrying about `n_ratings` ratings; enterprises answer once, some also get visits."""
    rng = random.Random(seed)
    n_messages = int(n_ratings / 9.3)  # 90% answers of 10, 10% visits of 3
    ents = county_enterprises(rng, max(50, int(n_messages * 0.9)))
    return [message(rng, i, ents[i % len(ents)] if i % 10 != 9 else rng.choice(ents), departments)
            for i in range(n_messages)]


def load(store, msgs):
    """Apply through the worker's transaction in worker-sized batches; ratings/s. A batch that fails (the
    embedded server once stalled for seconds under a parallel test run) is applied again, as the worker
    would after a redelivery: idempotent."""
    started, ratings = time.perf_counter(), 0
    for i in range(0, len(msgs), BATCH):
        for attempt in range(5):
            try:
                ratings += len(store.apply_batch(msgs[i:i + BATCH]).ratings)
                break
            except PyMongoError as exc:
                print(f"  batch {i // BATCH} failed ({exc.__class__.__name__}), applying it again", flush=True)
                if attempt == 4:
                    raise
                time.sleep(2)
    return ratings, ratings / (time.perf_counter() - started)


def timed(fn, repeat):
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


def rss_mb(pid):
    """RSS of a process and of its children (gunicorn workers), in MB, largest first."""
    pids = [pid] + [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    out = []
    for p in pids:
        for line in Path(f"/proc/{p}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                out.append(int(line.split()[1]) / 1024)
    return out


def bare_server(body):
    path = Path(tempfile.mkdtemp(prefix="manyi-bare-")) / "body.json"
    path.write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
    port = free_port()
    proc = subprocess.Popen([str(Path(sys.executable).parent / "gunicorn"), "-c", "deploy/gunicorn.conf.py",
                             "-b", f"127.0.0.1:{port}", "bench.bare_app:app"], cwd=ROOT,
                            env={**os.environ, "WEB_CONCURRENCY": "1", "BARE_JSON": str(path)},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    api = HttpApi(f"http://127.0.0.1:{port}")
    poll(lambda: api("GET", "/bare").status == 200, 30, 0.1, "the bare app")
    return proc, api


def endpoints():
    return [("/indices", f"/api/v1/indices?period={PERIOD}"),
            ("/departments/D/index", f"/api/v1/departments/d007/index?period={PERIOD}"),
            ("/departments/D/segments", f"/api/v1/departments/d007/segments?period={PERIOD}&by=industry"),
            ("/segments/gaps", f"/api/v1/segments/gaps?period={PERIOD}&by=township"),
            ("/departments/D/trend", f"/api/v1/departments/d007/trend?from=2024Q4&to={PERIOD}"),
            ("/nps", f"/api/v1/nps?period={PERIOD}"),
            ("/periods", "/api/v1/periods"),
            ("/indices (year)", f"/api/v1/indices?period={YEAR}"),
            ("report xlsx", f"/api/v1/reports/{PERIOD}.xlsx")]


# `manyi …` in a process that reports its own peak RSS on the way out (RUSAGE_CHILDREN would be the largest
# child's so far: a gunicorn worker's).
PEAK = ("import atexit, resource, runpy, sys; atexit.register(lambda: print('peak-rss-kb', resource.getrusage("
        "resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)); sys.argv[0] = 'manyi'; "
        "runpy.run_module('manyi.cli', run_name='__main__')")


def cli(variables, *args):
    """Run `manyi …` in its own process: (seconds, peak RSS MB, its summary line)."""
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", PEAK, *args], cwd=ROOT, env={**os.environ, **variables},
                         capture_output=True, text=True, timeout=3600)
    seconds = time.perf_counter() - started
    peak = [int(line.split()[1]) for line in out.stderr.splitlines() if line.startswith("peak-rss-kb ")]
    lines = [line for line in out.stdout.splitlines() if line.startswith(f"manyi {args[0]}:")] or \
        out.stdout.strip().splitlines() or [out.stderr.strip()[-300:]]
    # check: its first summary line (the aggregates'; the delivery reconciliation follows); rescore: its last
    return seconds, (peak[0] / 1024 if peak else float("nan")), lines[-1 if args[0] == "rescore" else 0]


def measure_size(n_ratings, mongo, vhost, repeat, out):
    names = {f"MANYI_{db}_DB": f"bench_{db.lower()}_{n_ratings}" for db in ("SURVEY", "SCORES", "GATEWAY", "WEBHOOKS")} \
        if mongo.keep else {}  # --keep: the same databases on every run, so a run reuses what an earlier one loaded
    config, variables = make_config(mongo.url, vhost.url, MANYI_WORKER_ID="bench-load", WEB_CONCURRENCY="2", **names)
    store = ScoresStore(config)
    store.ensure_indexes()
    t = time.perf_counter()
    msgs = county_messages(n_ratings)
    generated = time.perf_counter() - t
    earlier = store.processed.count_documents({"_id": {"$regex": "^s[0-9]+$"}}) if mongo.keep else 0
    ratings, rate = load(store, msgs[max(0, earlier - BATCH):])  # the overlap is skipped (idempotent)
    ratings = sum(len(m["data"]["ratings"]) for m in msgs)
    how = f"loaded at {rate:,.0f} ratings/s through the worker's transaction" if earlier < len(msgs) else \
        f"loaded by an earlier run (--keep {mongo.dir})"
    out(f"\n== {ratings:,} ratings in {PERIOD} (and in {YEAR}), {len(msgs):,} messages, "
        f"{len(DEPARTMENTS)} departments; generated in {generated:.0f} s, {how} ==")
    procs = Processes(variables, workers=2)
    procs.start_gateway()
    gw, key = HttpApi(procs.gateway_url), config.admin_key
    poll(lambda: gw("GET", "/readyz").status == 200, 60, 0.2, "the gateway")
    rng, serial = random.Random(99), [10 ** 9]
    ent = county_enterprises(rng, 1)[0]

    def commit_one():
        serial[0] += 1
        fresh = message(rng, serial[0], ent)
        fresh["id"] = fresh["data"]["source_id"] = f"cold-{time.time_ns()}"  # new on every run (--keep)
        store.apply_batch([fresh])

    results = {}
    try:
        out(f"{'endpoint':26} {'cold p50':>9} {'cold p99':>9} {'warm p50':>9} {'bare p50':>9} {'warm/bare':>9}")
        for name, path in endpoints():
            def read(path=path):
                request = urllib.request.Request(procs.gateway_url + path, headers={"Authorization": f"Bearer {key}"})
                with urllib.request.urlopen(request, timeout=600) as r:  # a busy machine: no 30 s limit
                    assert r.status == 200, (path, r.status)
                    return Reply(r.status, r.read(), dict(r.headers))
            body = read()
            cold = []
            for _ in range(max(3, repeat // 5)):
                commit_one()
                cold += timed(read, 1)
            warm = timed(read, repeat)
            bare_p50 = None
            if not name.startswith("report"):
                proc, bare = bare_server(body.json)
                try:
                    bare_p50 = pct(timed(lambda bare=bare: bare("GET", "/bare"), repeat), 50)
                finally:
                    os.killpg(proc.pid, 15)
                    proc.wait(10)
            results[name] = (pct(cold, 50), pct(cold, 99), pct(warm, 50), bare_p50)
            ratio = f"{pct(warm, 50) / bare_p50:8.1f}×" if bare_p50 else "        —"
            bare_text = f"{bare_p50 * 1000:7.1f}ms" if bare_p50 else "        —"
            out(f"{name:26} {pct(cold, 50) * 1000:7.1f}ms {pct(cold, 99) * 1000:7.1f}ms "
                f"{pct(warm, 50) * 1000:7.1f}ms {bare_text} {ratio}")
        rss = rss_mb(procs.procs["gateway"].pid)
        out(f"gateway RSS (master, workers): {', '.join(f'{m:.0f}' for m in rss)} MB")
    finally:
        procs.stop_all()
    check_seconds, peak, line = cli(variables, "check")
    out(f"manyi check   {check_seconds:6.1f} s, peak RSS {peak:5.0f} MB  ({line})")
    rescore_seconds, peak, line = cli(variables, "rescore")
    out(f"manyi rescore {rescore_seconds:6.1f} s, peak RSS {peak:5.0f} MB  ({line})")
    _, _, line = cli(variables, "check")
    out(f"manyi check after rescore: {line}")
    if not mongo.keep:
        MongoClient(mongo.url).drop_database(config.scores_db)  # keep the server's disk and cache for the next size
    return {"ratings": ratings, "reads": results, "rss": max(rss[1:] or rss), "check": check_seconds,
            "rescore": rescore_seconds}


def report_time(mongo, vhost, n_departments, out, repeat=3):
    """The ranking report's time (p50 of `repeat`) for a county of `n_departments` departments (30 ratings each)."""
    departments = [f"d{i:03d}" for i in range(n_departments)]
    config, variables = make_config(mongo.url, vhost.url, MANYI_WORKER_ID="bench-report")
    store = ScoresStore(config)
    store.ensure_indexes()
    load(store, county_messages(n_departments * 30, seed=5, departments=departments))
    procs = Processes(variables, workers=2)
    procs.start_gateway()
    try:
        gw = HttpApi(procs.gateway_url)
        poll(lambda: gw("GET", "/readyz").status == 200, 60, 0.2, "the gateway")
        request = urllib.request.Request(f"{procs.gateway_url}/api/v1/reports/{PERIOD}.xlsx",
                                         headers={"Authorization": f"Bearer {config.admin_key}"})

        def read():
            with urllib.request.urlopen(request, timeout=600) as r:
                assert r.status == 200
                r.read()
        seconds = pct(timed(read, repeat), 50)
    finally:
        procs.stop_all()
        MongoClient(mongo.url).drop_database(config.scores_db)
    out(f"\nreport xlsx at {n_departments} departments: {seconds:.2f} s (p50 of {repeat})")
    return seconds


def ingest_share(answers, out):
    """bench/ingest.py's run, echoed; its POST /api/v1/responses rate as a share of the composite ceiling."""
    run = subprocess.run([sys.executable, "bench/ingest.py", "--answers", str(answers)], cwd=ROOT,
                         capture_output=True, text=True, timeout=3600)
    out("\n" + run.stdout.rstrip())
    found = re.search(r"= ([0-9.]+) of the composite ceiling", run.stdout)
    return float(found.group(1)) if found else None


def goals(sizes, worker_rate, report_seconds, report_departments, ingest, out):
    """Issue 13's goals against the figures above (those of the largest size): met or not, and for each one not
    met, the measured figure; the worker's profile follows when it falls short."""
    largest = max(sizes)
    at = sizes[largest]
    reads = {name: r for name, r in at["reads"].items() if not name.startswith("report")}
    cold_name, cold = max(reads.items(), key=lambda kv: kv[1][1])
    ratio_name, ratio = max(((name, r[2] / r[3]) for name, r in reads.items() if r[3]), key=lambda kv: kv[1])
    periods = reads["/periods"]
    million = "" if largest >= 1_000_000 else f" (measured at {largest:,} only: add 1000000 to --sizes)"
    rows = [
        ("every read cold, p99 ≤ 1 s", f"worst {cold[1] * 1000:,.0f} ms ({cold_name})", cold[1] <= 1),
        ("every read warm, p50 ≤ 2× a bare GET", f"worst {ratio:.1f}× ({ratio_name})", ratio <= 2),
        ("/periods ≤ 50 ms", f"cold p99 {periods[1] * 1000:.1f} ms, warm p50 {periods[2] * 1000:.1f} ms",
         max(periods[1], periods[2]) <= 0.05),
        ("report xlsx ≤ 5 s at 300 departments", "not measured (--report-departments)" if report_seconds is None
         else f"{report_seconds:.2f} s at {report_departments}", None if report_seconds is None
         else report_seconds <= 5 and report_departments >= 300),
        ("gateway worker RSS ≤ 300 MB", f"{at['rss']:.0f} MB", at["rss"] <= 300),
        ("scoring worker ≥ 5,000 ratings/s", f"{worker_rate:,.0f} ratings/s", worker_rate >= 5000),
        ("manyi rescore of 1,000,000 ≤ 60 s", f"{at['rescore']:.1f} s at {largest:,}{million}",
         at["rescore"] <= 60 if largest >= 1_000_000 else None),
        ("manyi check of 1,000,000 ≤ 60 s", f"{at['check']:.1f} s at {largest:,}{million}",
         at["check"] <= 60 if largest >= 1_000_000 else None),
        ("ingest ≥ 0.7 of the composite ceiling", "not measured (--ingest N)" if ingest is None else f"{ingest:.2f}",
         None if ingest is None else ingest >= 0.7)]
    out(f"\n== goals (issue 13) at {largest:,} ratings ==")
    for goal, figure, met in rows:
        out(f"{goal:40} {figure:52} {'met' if met else '—' if met is None else 'NOT MET'}")
    out("\nwhat stands in the way, from the figures above:")
    if ratio > 2:
        small = min((r[3], name) for name, r in reads.items() if r[3])
        best = min(((r[2] / r[3], name) for name, r in reads.items() if r[3]))
        out(f"- warm reads: a kept reply still costs one round trip for the period's commit versions (a reader must "
            f"never see older figures than it saw before) plus the request's own handling; against a bare GET of "
            f"{small[0] * 1000:.1f} ms ({small[1]}) that fixed cost is the ratio (the largest replies: "
            f"{best[0]:.1f}x, {best[1]})")
    for goal in ("check", "rescore"):
        rate = at["ratings"] / at[goal]
        if largest < 1_000_000 or at[goal] > 60:
            out(f"- manyi {goal}: {rate:,.0f} of the period's ratings per second (each also counts in its year); "
                f"60 s for a million needs {1_000_000 / 60:,.0f}/s, {1_000_000 / 60 / rate:.1f}x this")
    if worker_rate < 5000:
        out(f"- scoring worker: {worker_rate:,.0f} ratings/s; the profile below says where its transaction's time goes")
    if ingest is not None and ingest < 0.7:
        out("- ingest: the (a)-(d) lines above: each answer's own round trips (invitation read, enterprise read, "
            "journaled insert) against one bare journaled insert")
    return worker_rate >= 5000


def worker_process_rate(mongo, vhost, n_messages, out):
    """The scoring worker process draining a pre-filled queue (answers of ~10 ratings), ratings/s."""
    _, variables = make_config(mongo.url, vhost.url, MANYI_WORKER_ID="bench-worker")
    connection = amqp.connect(vhost.url)
    channel = connection.channel()
    amqp.declare_topology(channel)
    channel.queue_purge(amqp.QUEUE)
    connection.close()
    msgs = county_messages(int(n_messages * 9.3), seed=11)
    publisher = amqp.Publisher(vhost.url)
    for i in range(0, len(msgs), 500):
        part = [{**m, "occurred_at": m["occurred_at"].isoformat()} for m in msgs[i:i + 500]]
        assert publisher.publish([(m["type"], m) for m in part], messages.encode)
    publisher.close()
    ratings = sum(len(m["data"]["ratings"]) for m in msgs)
    procs = Processes(variables)
    procs.start_worker()
    client = MongoClient(mongo.url)
    processed = client[variables["MANYI_SCORES_DB"]].processed
    try:
        poll(lambda: processed.estimated_document_count() > 0, 60, 0.01, "the worker's first batch")
        started, first = time.perf_counter(), processed.count_documents({})
        poll(lambda: processed.count_documents({}) == len(msgs), 900, 0.1, "the queue drained")
        rate = (len(msgs) - first) * ratings / len(msgs) / (time.perf_counter() - started)
        pid = procs.procs["scoring"].pid
        out(f"scoring worker process (pre-filled queue, {len(msgs):,} messages of ~9.3 ratings): "
            f"{rate:,.0f} ratings/s, RSS {rss_mb(pid)[0]:.0f} MB")
        return rate
    finally:
        procs.stop_all()
        client.drop_database(variables["MANYI_SCORES_DB"])
        client.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000",
                        help="ratings per period, comma-separated (add 1000000 for the million: ~15+ min)")
    parser.add_argument("--repeat", type=int, default=40, help="reads per warm measurement")
    parser.add_argument("--worker-messages", type=int, default=5000, help="messages for the worker process rate")
    parser.add_argument("--keep", metavar="DIR", help="keep the database server's data in DIR and reuse what an "
                        "earlier run with the same DIR loaded (the million takes half an hour to load)")
    parser.add_argument("--report-departments", type=int, default=300,
                        help="also time the report for a county of this many departments (0: skip)")
    parser.add_argument("--ingest", type=int, default=0,
                        help="also run bench/ingest.py with this many answers for the ingest ratio (0: skip)")
    args = parser.parse_args()

    def out(line):
        print(line, flush=True)
    mongo, vhost = MongoServer(args.keep).start(), RabbitVhost().create()
    try:
        out(f"scale benchmark: {os.cpu_count()} cores, embedded MongoDB, gateway under gunicorn (2 workers)")
        sizes = {size: measure_size(size, mongo, vhost, args.repeat, out) for size in map(int, args.sizes.split(","))}
        report = report_time(mongo, vhost, args.report_departments, out) if args.report_departments else None
        worker_rate = worker_process_rate(mongo, vhost, args.worker_messages, out)
    finally:
        vhost.delete()
        mongo.cleanup()
    ingest = ingest_share(args.ingest, out) if args.ingest else None
    if not goals(sizes, worker_rate, report, args.report_departments, ingest, out):
        out("\nwhere the scoring worker's time goes (bench/worker_profile.py):")
        run = subprocess.run([sys.executable, "bench/worker_profile.py", "--ratings", "20000"], cwd=ROOT,
                             capture_output=True, text=True, timeout=1800)
        out(run.stdout.rstrip() or run.stderr.strip()[-500:])


if __name__ == "__main__":
    main()
