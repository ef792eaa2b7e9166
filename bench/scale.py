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
import resource
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

from services.scoring.repository import ScoresStore  # noqa: E402
from shared import amqp, messages  # noqa: E402
from tests.api import HttpApi, Reply  # noqa: E402
from tests.factories import uscc  # noqa: E402
from tests.harness import MongoServer, Processes, RabbitVhost, free_port, make_config, poll  # noqa: E402

PERIOD, YEAR = "2026Q3", "2026"
DEPARTMENTS = [f"d{i:03d}" for i in range(100)]
INDICATORS = {d: [f"{d}-i{k}" for k in range(1 + i % 3)] for i, d in enumerate(DEPARTMENTS)}
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


def message(rng, serial, ent):
    """One decoded event, as the worker receives it: a survey answer of ~10 ratings or a visit of 3."""
    visit = serial % 10 == 9
    departments = rng.sample(DEPARTMENTS, 3 if visit else 10)
    ratings = []
    for d in departments:
        level = rng.choice(LEVEL_MIX)
        ratings.append({"department": d, "indicator": "visit" if visit else rng.choice(INDICATORS[d]),
                        "weight": 1.0 if visit else rng.choice([1.0, 1.0, 2.0]), "level": level,
                        "points": SCALE[level], "question": None})
    return {"type": messages.VISIT_RECORDED if visit else messages.RESPONSE_SUBMITTED, "id": f"s{serial}",
            "schema_version": 1, "occurred_at": T0 + timedelta(seconds=serial),
            "data": {"source_id": f"s{serial}", "channel": "visit" if visit else "survey", "period": PERIOD,
                     "enterprise": ent, "ratings": ratings, "nps": None if visit else rng.randint(0, 10)}}


def county_messages(n_ratings, seed=7):
    """Messages carrying about `n_ratings` ratings; enterprises answer once, some also get visits."""
    rng = random.Random(seed)
    n_messages = int(n_ratings / 9.3)  # 90% answers of 10, 10% visits of 3
    ents = county_enterprises(rng, max(50, int(n_messages * 0.9)))
    return [message(rng, i, ents[i % len(ents)] if i % 10 != 9 else rng.choice(ents)) for i in range(n_messages)]


def load(store, msgs):
    """Apply through the worker's transaction in worker-sized batches; ratings/s."""
    started, ratings = time.perf_counter(), 0
    for i in range(0, len(msgs), BATCH):
        ratings += len(store.apply_batch(msgs[i:i + BATCH]).ratings)
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


def cli(variables, *args):
    """Run `manyi …` in its own process: (seconds, peak RSS MB, last line)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "manyi.cli", *args], cwd=ROOT, env={**os.environ, **variables},
                         capture_output=True, text=True, timeout=1800)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return seconds, (peak if peak > before else float("nan")) / 1024, (out.stdout.strip().splitlines() or [""])[-1]


def measure_size(n_ratings, mongo, vhost, repeat, out):
    config, variables = make_config(mongo.url, vhost.url, MANYI_WORKER_ID="bench-load", WEB_CONCURRENCY="2")
    store = ScoresStore(config)
    store.ensure_indexes()
    t = time.perf_counter()
    msgs = county_messages(n_ratings)
    generated = time.perf_counter() - t
    ratings, rate = load(store, msgs)
    out(f"\n== {ratings:,} ratings in {PERIOD} (and in {YEAR}), {len(msgs):,} messages, "
        f"{len(DEPARTMENTS)} departments; generated in {generated:.0f} s, loaded at {rate:,.0f} ratings/s "
        f"through the worker's transaction ==")
    procs = Processes(variables, workers=2)
    procs.start_gateway()
    gw, key = HttpApi(procs.gateway_url), config.admin_key
    poll(lambda: gw("GET", "/readyz").status == 200, 60, 0.2, "the gateway")
    rng, serial = random.Random(99), [10 ** 9]
    ent = county_enterprises(rng, 1)[0]

    def commit_one():
        serial[0] += 1
        store.apply_batch([message(rng, serial[0], ent)])

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
        out(f"gateway RSS (master, workers): {', '.join(f'{m:.0f}' for m in rss_mb(procs.procs['gateway'].pid))} MB")
    finally:
        procs.stop_all()
    seconds, peak, line = cli(variables, "check")
    out(f"manyi check   {seconds:6.1f} s, peak RSS {peak:5.0f} MB  ({line})")
    seconds, peak, line = cli(variables, "rescore")
    out(f"manyi rescore {seconds:6.1f} s, peak RSS {peak:5.0f} MB  ({line})")
    seconds, _, line = cli(variables, "check")
    out(f"manyi check after rescore: {line}")
    MongoClient(mongo.url).drop_database(config.scores_db)  # keep the server's disk and cache for the next size
    return results


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
    parser.add_argument("--ingest", type=int, default=0,
                        help="also run bench/ingest.py with this many answers for the ingest ratio (0: skip)")
    args = parser.parse_args()

    def out(line):
        print(line, flush=True)
    mongo, vhost = MongoServer().start(), RabbitVhost().create()
    try:
        out(f"scale benchmark: {os.cpu_count()} cores, embedded MongoDB, gateway under gunicorn (2 workers)")
        for size in (int(s) for s in args.sizes.split(",")):
            measure_size(size, mongo, vhost, args.repeat, out)
        worker_process_rate(mongo, vhost, args.worker_messages, out)
    finally:
        vhost.delete()
        mongo.cleanup()
    if args.ingest:
        subprocess.run([sys.executable, "bench/ingest.py", "--answers", str(args.ingest)], cwd=ROOT, check=False)


if __name__ == "__main__":
    main()
