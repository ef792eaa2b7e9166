"""kill -9 inside a transaction stalls nothing (issue 10: no stall).

A process killed with -9 in the middle of a transaction leaves it open on the server, holding its locks
for the server's transaction lifetime (60 s, on MongoDB and on the embedded server alike); on the old
code every writer of the same documents retried for that long. The killed process here is a stand-in
that writes exactly what the real one would (the worker's `processed` ids, the survey's response id) in
a transaction of the same shape, announced the way every process announces its sessions, then is killed.
"""
import os
import random
import signal
import subprocess
import sys
import time

import pytest

from services.survey.answers.accept import response_id_of
from tests.factories import enterprise, rating, ratings_event
from tests.faults.scenario import County
from tests.harness import ROOT, Processes, _status, poll
from tests.integration.test_crash import publish_all

HOLD_OPEN = r"""
import sys, time
from shared import mongo
client = mongo.client(sys.argv[1])
db = client[sys.argv[2]]
mongo.announce_sessions(db)
collection, ids = sys.argv[3], sys.argv[4:]

def work(session):
    db[collection].insert_many([{"_id": i, "holder": "killed"} for i in ids], session=session)
    print("in transaction", flush=True)
    time.sleep(600)

mongo.run_transaction(client, work, seconds=700)
"""


def kill_inside_transaction(mongo_url, database, collection, ids):
    child = subprocess.Popen([sys.executable, "-c", HOLD_OPEN, mongo_url, database, collection, *ids], cwd=ROOT,
                             stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert child.stdout.readline().strip() == "in transaction"
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    child.stdout.close()


def test_worker_resumes_within_seconds_after_a_worker_is_killed_inside_its_transaction(env):
    config, variables = env
    rng = random.Random(3)
    ents = [enterprise() for _ in range(20)]
    events = [ratings_event(rng.choice(ents), [rating("tax", rng.randint(1, 5))]) for _ in range(300)]
    procs = Processes(variables)
    try:
        from services.scoring.repository import ScoresStore
        store = ScoresStore(config)
        procs.start_worker()
        poll(lambda: _status(procs.worker_health_url + "/readyz") == 200, 90, 0.2, "the worker ready")
        # A worker killed while it had claimed the first 50 messages' ids in its open transaction.
        kill_inside_transaction(config.mongo_url, config.scores_db, "processed", [e["id"] for e in events[:50]])
        started = time.monotonic()
        publish_all(config.amqp_url, events)
        poll(lambda: store.processed.count_documents({}) == len(events), 40, 0.2, "every event processed")
        elapsed = time.monotonic() - started
        assert elapsed < 15, f"took {elapsed:.1f} s"  # the old code waited for the server's 60 s lifetime
        assert store.ratings.count_documents({}) == len(events)
        assert store.processed.count_documents({"holder": "killed"}) == 0
    finally:
        procs.stop_all()


@pytest.mark.parametrize("level", [1, 5], ids=["with a 差评 (a transaction)", "without (a single insert)"])
def test_a_phones_resend_is_answered_within_seconds_after_a_web_worker_is_killed_inside_its_transaction(env, level):
    """An answer with a 差评 is stored in a transaction with its demand; one without is a single insert outside
    any transaction, which the dead transaction's lock stalled for the server's 60 s (bench/faults.py)."""
    config, variables = env
    procs = Processes(variables).start()
    try:
        county = County(procs, config, 2)
        code = county.codes[0]
        # The killed web worker was storing this enterprise's answer (with its 差评 demand) in a transaction.
        kill_inside_transaction(config.mongo_url, config.survey_db, "responses", [response_id_of("s1", code)])
        started = time.monotonic()
        reply = county.answer(0, level=level)  # a resend of the same answer
        elapsed = time.monotonic() - started
        assert reply.status == 202, reply
        assert elapsed < 10, f"the resend took {elapsed:.1f} s"
        assert county.wait_counted(30) == (0, 0)
    finally:
        procs.stop_all()
