"""One county under fire: the pieces the fault tests and bench/faults.py share.

A survey with one rating question is answered by many enterprises over real HTTP while something is
killed; then every 202 must be counted exactly once: the answer's message id is in `processed` once,
its rating is in `ratings` once, and the gateway's `n` for the department is the number of enterprises
that answered (one voice each).
"""
import os
import subprocess
import sys
import threading
import time

import pika

from shared import amqp, mongo
from tests.api import HttpApi, ok, setup_survey
from tests.factories import enterprise
from tests.harness import ROOT, poll

QUESTIONS = [{"id": "q1", "type": "rating5", "text": "市场监管服务", "department": "market",
              "indicator": "licensing", "required": True}]
PERIOD = "2026Q4"


class County:
    """`n` invited enterprises; `answer(i)` posts enterprise i's answer; records every status seen."""

    def __init__(self, procs, config, n):
        self.procs, self.config = procs, config
        self.api = HttpApi(procs.survey_url)
        self.admin = config.admin_key
        self.survey_id, self.tokens, self.ents = setup_survey(
            self.api, self.admin, QUESTIONS, [enterprise() for _ in range(n)], period=PERIOD)
        self.codes = [e["code"] for e in self.ents]
        self.accepted = {}      # enterprise code → response id (answered 202)
        self.statuses = {}      # status → count, every try
        self.last_202_at = None
        self._lock = threading.Lock()

    def answer(self, i, level=None):
        code = self.codes[i]
        reply = self.api("POST", "/api/v1/responses", body={"token": self.tokens[code],
                                                            "answers": {"q1": level or 4 + i % 2}})
        with self._lock:
            self.statuses[reply.status] = self.statuses.get(reply.status, 0) + 1
            if reply.status == 202:
                self.accepted[code] = reply.json["response_id"]
                self.last_202_at = time.monotonic()
        return reply

    def answer_until_accepted(self, i, seconds=60):
        """Resend like a phone on a bad network until the answer is accepted (202)."""
        deadline = time.monotonic() + seconds
        while True:
            try:
                reply = self.answer(i)
                if reply.status == 202:
                    return reply
            except OSError:  # the server itself away
                with self._lock:
                    self.statuses["refused"] = self.statuses.get("refused", 0) + 1
            if time.monotonic() > deadline:
                raise AssertionError(f"answer {i} not accepted within {seconds} s: {self.statuses}")
            time.sleep(0.2)

    def answer_all(self, indices, threads=4):
        indices = list(indices)
        work = iter(indices)
        lock = threading.Lock()
        errors = []

        def loop():
            while True:
                with lock:
                    i = next(work, None)
                if i is None:
                    return
                try:
                    self.answer_until_accepted(i)
                except AssertionError as exc:
                    errors.append(exc)
                    return

        pool = [threading.Thread(target=loop) for _ in range(threads)]
        for t in pool:
            t.start()
        for t in pool:
            t.join()
        assert not errors, errors[0]

    # --- what scoring applied ---------------------------------------------------------------------
    def scores(self):
        return mongo.client(self.config.mongo_url)[self.config.scores_db]

    def survey_db(self):
        return mongo.client(self.config.mongo_url)[self.config.survey_db]

    def message_ids(self):
        """The message id of every accepted answer (read from the survey's records)."""
        ids = {r["_id"]: r["message"]["id"] for r in self.survey_db().responses.find({}, {"message.id": 1})}
        return {code: ids[rid] for code, rid in self.accepted.items()}

    def tally(self):
        """(lost, double): accepted answers without a rating, and ratings counted more than once."""
        ids = set(self.message_ids().values())
        counts = {}
        for r in self.scores().ratings.find({"message_id": {"$in": list(ids)}}, {"message_id": 1}):
            counts[r["message_id"]] = counts.get(r["message_id"], 0) + 1
        lost = len(ids - set(counts))
        double = sum(n - 1 for n in counts.values() if n > 1)
        return lost, double

    def wait_counted(self, timeout=120):
        poll(lambda: self.tally()[0] == 0, timeout, 0.3, "every accepted answer counted")
        return self.tally()

    def gateway_n(self):
        reply = HttpApi(self.procs.gateway_url)("GET", f"/api/v1/departments/market/index?period={PERIOD}",
                                                self.admin)
        return ok(reply, 200)["n"] if reply.status == 200 else None


def publish_raw(amqp_url, body, routing_key="response.submitted", message_id="poison"):
    """Put bytes on manyi.events as a publisher would (confirmed), bypassing every check of ours."""
    connection = amqp.connect(amqp_url)
    try:
        channel = connection.channel()
        amqp.declare_topology(channel)
        channel.confirm_delivery()
        channel.basic_publish(amqp.EXCHANGE, routing_key, body, pika.BasicProperties(
            delivery_mode=pika.DeliveryMode.Persistent, content_type="application/json", message_id=message_id,
            type=routing_key), mandatory=True)
    finally:
        connection.close()


def manyi(variables, *args, timeout=120):
    """Run the operator's CLI as an operator would; (exit code, output)."""
    run = subprocess.run([sys.executable, "-m", "manyi.cli", *args], cwd=ROOT, env={**os.environ, **variables},
                         capture_output=True, text=True, timeout=timeout)
    return run.returncode, run.stdout + run.stderr
