"""Ingest benchmark (issue: the core pipeline): our POST /api/v1/responses against its ceilings.

Measured side by side in one run, with the same load tool (threads with keep-alive HTTP clients),
the same concurrency and the same gunicorn settings:
  (a) a bare Flask POST endpoint under gunicorn,
  (b) a bare journaled insert_one into the embedded MongoDB server,
  (c) a bare confirmed publish (persistent, mandatory, one confirm per message) to the quorum queue,
  (d) our POST /api/v1/responses (validate, store journaled, publish with confirm),
then the composite ceiling 1 / (1/a + 1/b + 1/c) and our share of it; the time from the last 202
until the gateway reflects every answer; and the scoring worker's ratings/s on a pre-filled queue.
"""
import argparse
import http.client
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pymongo import MongoClient  # noqa: E402

from shared import amqp, messages  # noqa: E402
from tests.api import HttpApi, ok  # noqa: E402
from tests.factories import enterprise, rating, ratings_event  # noqa: E402
from tests.harness import MongoServer, Processes, RabbitVhost, free_port, make_config, poll  # noqa: E402

QUESTIONS = [
    {"id": "q1", "type": "rating5", "text": "市场监管服务", "department": "market", "indicator": "licensing",
     "required": True},
    {"id": "q2", "type": "rating5", "text": "纳税服务", "department": "tax", "indicator": "tax", "weight": 2.0},
    {"id": "q3", "type": "nps", "text": "推荐意愿"},
    {"id": "q4", "type": "text", "text": "意见和建议"},
]


# Levels as a county's answers run (most 4–5): 10% of ratings are 差评, each opening a rectification demand
# in the same transaction as the answer. A uniform 1–5 mix would make 40% of them 差评.
LEVEL_MIX = (5,) * 8 + (4,) * 7 + (3,) * 3 + (2, 1)


def answers(i):
    return {"q1": LEVEL_MIX[i % 20], "q2": LEVEL_MIX[(i * 7 + 3) % 20], "q3": i % 11, "q4": "办事效率很高，窗口服务热情。"}


def bad_rating_share(n):
    return sum(1 for i in range(n) if min(answers(i)["q1"], answers(i)["q2"]) <= 2) / n


def run_threads(n_items, concurrency, work):
    """Run work(i) for i in range(n_items) on `concurrency` threads; (items per second, [results])."""
    results = [None] * n_items
    next_item, lock = iter(range(n_items)), threading.Lock()

    def loop(state):
        while True:
            with lock:
                i = next(next_item, None)
            if i is None:
                return
            results[i] = work(i, state)

    threads = [threading.Thread(target=loop, args=({},)) for _ in range(concurrency)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return n_items / (time.perf_counter() - started), results


def http_post(port, path, body_of):
    def work(i, state):
        conn = state.get("conn") or state.setdefault("conn", http.client.HTTPConnection("127.0.0.1", port, timeout=30))
        conn.request("POST", path, json.dumps(body_of(i), ensure_ascii=False).encode(),
                     {"Content-Type": "application/json"})
        response = conn.getresponse()
        response.read()
        return response.status
    return work


def bare_flask(n, concurrency, workers):
    port = free_port()
    env = {**os.environ, "WEB_CONCURRENCY": str(workers)}
    proc = subprocess.Popen([str(Path(sys.executable).parent / "gunicorn"), "-c", "deploy/gunicorn.conf.py",
                             "-b", f"127.0.0.1:{port}", "bench.bare_app:app"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        poll(lambda: HttpApi(f"http://127.0.0.1:{port}")("POST", "/bare", body={"answers": {}}).status == 202, 30)
        rate, statuses = run_threads(n, concurrency, http_post(port, "/bare", lambda i: {"token": str(i),
                                                                                         "answers": answers(i)}))
        assert set(statuses) == {202}, set(statuses)
        return rate
    finally:
        proc.terminate()
        proc.wait(20)


def bare_insert(n, concurrency, mongo_url):
    client = MongoClient(mongo_url, journal=True)
    collection = client[f"bench_{uuid.uuid4().hex[:6]}"].responses

    def work(i, state):
        collection.insert_one({"_id": uuid.uuid4().hex, "token": uuid.uuid4().hex, "answers": answers(i),
                               "message": {"data": {"ratings": [rating("market", 3)]}}, "published": False})
    rate, _ = run_threads(n, concurrency, work)
    client.close()
    return rate


def bare_publish(n, concurrency, amqp_url):
    publishers = []

    def work(i, state):
        publisher = state.get("p")
        if publisher is None:
            publisher = state["p"] = amqp.Publisher(amqp_url)
            publishers.append(publisher)
        message = ratings_event(enterprise(), [rating("market", 1 + i % 5)])
        assert publisher.publish([(message["type"], message)], messages.encode)
    rate, _ = run_threads(n, concurrency, work)
    for p in publishers:
        p.close()
    return rate


def purge(amqp_url):
    connection = amqp.connect(amqp_url)
    channel = connection.channel()
    amqp.declare_topology(channel)
    channel.queue_purge(amqp.QUEUE)
    connection.close()


def our_endpoint(n, concurrency, variables, workers):
    procs = Processes(variables, workers=workers).start()
    api, admin = HttpApi(procs.survey_url), variables["MANYI_ADMIN_KEY"]
    gateway = HttpApi(procs.gateway_url)
    try:
        for code in ("market", "tax"):
            ok(api("POST", "/api/v1/departments", admin, {"code": code, "name": code}), 201)
        codes = [enterprise() for _ in range(n)]
        print(f"  setting up {n} enterprises and invitations …", file=sys.stderr)
        for e in codes:
            ok(api("POST", "/api/v1/enterprises", admin, e), 201)
        survey = ok(api("POST", "/api/v1/surveys", admin, {"code": "bench", "title": "基准", "period": "2026Q4",
                                                            "questions": QUESTIONS}), 201)
        ok(api("POST", f"/api/v1/surveys/{survey['id']}/open", admin, {}), 200)
        inv = ok(api("POST", f"/api/v1/surveys/{survey['id']}/invitations", admin,
                     {"enterprises": [e["code"] for e in codes]}), 201)["invitations"]
        rate, statuses = run_threads(n, concurrency, http_post(procs.survey_port, "/api/v1/responses",
                                                               lambda i: {"token": inv[i]["token"],
                                                                          "answers": answers(i)}))
        last_202 = time.perf_counter()
        assert set(statuses) == {202}, {s: statuses.count(s) for s in set(statuses)}

        def reflected():
            reply = gateway("GET", "/api/v1/departments/market/index?period=2026Q4", admin)
            return reply.status == 200 and reply.json["n"] == n
        poll(reflected, 300, 0.05, "the gateway to reflect every answer")
        return rate, time.perf_counter() - last_202
    finally:
        procs.stop_all()


def worker_rate(n_messages, variables):
    """The worker alone: fill the queue first, then time the worker draining it."""
    purge(variables["MANYI_AMQP_URL"])
    publisher = amqp.Publisher(variables["MANYI_AMQP_URL"])
    ents = [enterprise() for _ in range(500)]
    events = [ratings_event(ents[i % 500], [rating("market", 1 + i % 5, "a"), rating("tax", 1 + i % 3, "b"),
                                            rating("land", 5, "c")]) for i in range(n_messages)]
    for i in range(0, n_messages, 500):
        assert publisher.publish([(m["type"], m) for m in events[i:i + 500]], messages.encode)
    publisher.close()
    client = MongoClient(variables["MANYI_MONGO_URL"])
    processed = client[variables["MANYI_SCORES_DB"]].processed
    # (d)'s worker wrote to the same scores database: count only what this measurement adds.
    before = processed.count_documents({})
    procs = Processes(variables)
    procs.start_worker()
    try:
        poll(lambda: processed.count_documents({}) > before, 60, 0.01, "the worker's first batch")
        started, first = time.perf_counter(), processed.count_documents({}) - before
        poll(lambda: processed.count_documents({}) - before == n_messages, 600, 0.2, "the queue drained")
        return (n_messages - first) * 3 / (time.perf_counter() - started)
    finally:
        procs.stop_all()
        client.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--answers", type=int, default=2000, help="requests per measurement")
    parser.add_argument("--concurrency", type=int, default=16, help="client threads")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (WEB_CONCURRENCY)")
    parser.add_argument("--worker-messages", type=int, default=10000, help="messages for the worker measurement")
    args = parser.parse_args()
    mongo, vhost = MongoServer().start(), RabbitVhost().create()
    try:
        config, variables = make_config(mongo.url, vhost.url, MANYI_WORKER_ID="bench")
        n, c = args.answers, args.concurrency
        print(f"ingest benchmark: {n} requests each, {c} client threads, {args.workers} gunicorn workers, "
              f"{os.cpu_count()} cores", flush=True)
        a = bare_flask(n, c, args.workers)
        print(f"(a) bare Flask POST             {a:8.0f} /s", flush=True)
        b = bare_insert(n, c, mongo.url)
        print(f"(b) bare journaled insert_one   {b:8.0f} /s", flush=True)
        purge(vhost.url)
        cc = bare_publish(n, c, vhost.url)
        print(f"(c) bare confirmed publish      {cc:8.0f} /s", flush=True)
        purge(vhost.url)
        ceiling = 1 / (1 / a + 1 / b + 1 / cc)
        print(f"    composite ceiling 1/(1/a+1/b+1/c) {ceiling:8.0f} /s", flush=True)
        d, lag = our_endpoint(n, c, variables, args.workers)
        print(f"(d) POST /api/v1/responses      {d:8.0f} /s  = {d / ceiling:.2f} of the composite ceiling "
              f"({bad_rating_share(n):.0%} of the answers carry a 差评)", flush=True)
        print(f"    last 202 → gateway reflects all {n} answers: {lag:.2f} s", flush=True)
        _, worker_variables = make_config(mongo.url, vhost.url, MANYI_WORKER_ID="bench-worker")
        w = worker_rate(args.worker_messages, worker_variables)
        print(f"scoring worker (pre-filled queue) {w:8.0f} ratings/s = {w / 2 / d:.1f}× the ingest rate "
              f"(each answer above carries 2 ratings)", flush=True)
    finally:
        vhost.delete()
        mongo.cleanup()


if __name__ == "__main__":
    main()
