"""Aggregates equal a recomputation after crashes: the worker or the database killed mid-stream."""
import random
import signal
from collections import defaultdict

import pytest

from services.scoring.repository import ScoresStore
from services.scoring.rescore import check
from shared import amqp, messages
from tests.factories import enterprise, rating, ratings_event
from tests.harness import MongoServer, Processes, make_config, poll

N_EVENTS = 1500


def stream(rng, n):
    ents = [enterprise() for _ in range(60)]
    return [ratings_event(rng.choice(ents), [rating(rng.choice(["tax", "land", "market"]), rng.randint(1, 5),
                                                    rng.choice(["a", "b"]), weight=rng.choice([1.0, 2.0]))
                                             for _ in range(rng.randint(1, 3))]) for _ in range(n)]


def expected_cells(events):
    """Σw·p, Σw and level counts per cell, computed here from the events the test sent."""
    cells = defaultdict(lambda: {"swp": 0.0, "sw": 0.0, "levels": defaultdict(int)})
    for e in events:
        for r in e["data"]["ratings"]:
            c = cells[f"{e['data']['period']}|{r['department']}|{r['indicator']}|{e['data']['enterprise']['code']}"]
            c["swp"] += r["weight"] * r["points"]
            c["sw"] += r["weight"]
            c["levels"][str(r["level"])] += 1
    return cells


def publish_all(amqp_url, events):
    publisher = amqp.Publisher(amqp_url)
    for i in range(0, len(events), 100):
        assert publisher.publish([(m["type"], m) for m in events[i:i + 100]], messages.encode)
    publisher.close()


def stored_cells(store):
    """Σw·p, Σw and level counts per (quarter, department, indicator, enterprise), out of the voices."""
    cells = defaultdict(lambda: {"swp": 0.0, "sw": 0.0, "levels": defaultdict(int)})
    for voice in store.voices.find({"period": {"$regex": "Q"}}):
        for part in voice["parts"]:
            c = cells[f"{voice['period']}|{voice['department']}|{part['indicator']}|{voice['enterprise']}"]
            c["swp"] += part["swp"]
            c["sw"] += part["sw"]
            for lv, k in part["levels"].items():
                c["levels"][lv] += k
    return cells


def assert_cells_match(store, events):
    stored = stored_cells(store)
    want = expected_cells(events)
    assert set(stored) == set(want)
    for key, w in want.items():
        assert stored[key]["swp"] == pytest.approx(w["swp"], abs=1e-9)
        assert stored[key]["sw"] == pytest.approx(w["sw"], abs=1e-9)
        assert {k: v for k, v in stored[key]["levels"].items() if v} == dict(w["levels"])


def test_worker_killed_mid_batch_loses_and_doubles_nothing(env):
    config, variables = env
    events = stream(random.Random(1), N_EVENTS)
    procs = Processes(variables)
    try:
        publish_all(config.amqp_url, events)
        store = ScoresStore(config)
        procs.start_worker()
        poll(lambda: store.processed.count_documents({}) >= 200, 60, 0.01, "some batches committed")
        procs.stop("scoring", signal.SIGKILL)  # mid-stream: a batch may be committed but not acked
        done_at_kill = store.processed.count_documents({})
        assert done_at_kill < N_EVENTS, "the worker finished before it could be killed; raise N_EVENTS"
        procs.start_worker()
        poll(lambda: store.processed.count_documents({}) == N_EVENTS, 120, 0.2, "every event processed")
        assert store.ratings.count_documents({}) == sum(len(e["data"]["ratings"]) for e in events)
        assert_cells_match(store, events)
        assert check(config) == 0
    finally:
        procs.stop_all()


def test_database_killed_under_the_worker_loses_nothing(rabbit):
    mongo = MongoServer().start()
    try:
        config, variables = make_config(mongo.url, rabbit.url)
        events = stream(random.Random(2), N_EVENTS)
        procs = Processes(variables)
        try:
            publish_all(config.amqp_url, events)
            store = ScoresStore(config)
            procs.start_worker()
            poll(lambda: store.processed.count_documents({}) >= 200, 60, 0.01, "some batches committed")
            mongo.kill()  # kill -9: only journaled commits survive, and the worker acks only after those
            mongo.start()  # same port, same storage
            poll(lambda: store.processed.count_documents({}) == N_EVENTS, 180, 0.3, "every event processed")
            assert_cells_match(store, events)
            assert check(config) == 0
        finally:
            procs.stop_all()
    finally:
        mongo.cleanup()
