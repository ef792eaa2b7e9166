"""Webhooks end to end: the survey app's subscriptions API, the real broker and database, the delivery worker as
a real process, and real HTTP receivers on free ports (issue 17's list of tests)."""
import hashlib
import hmac
import json
import signal
import threading
import time
import urllib.request
import uuid
from datetime import timedelta

import pytest

from services.survey.demands import rules
from shared import amqp, messages
from shared.domain import utcnow
from shared.webhooks import WebhookDb, delivery_id
from tests.api import FlaskApi, ok
from tests.factories import enterprise
from tests.harness import DeliveryWorker, poll
from tests.receiver import Receiver

DEMAND_EVENTS = ["demand.created", "demand.assigned", "demand.resolved", "demand.closed"]
ADMIN = {"role": "admin", "name": "营商办"}
TERMS = rules.Terms(7, 30, 15)


@pytest.fixture
def county(env, make_survey_app):
    """The survey app (Flask client) allowing local receivers, and the test's databases."""
    config, variables = env
    api = FlaskApi(make_survey_app(webhook_allow_private=True))
    return {"api": api, "admin": config.admin_key, "config": config, "variables": variables, "db": WebhookDb(config)}


@pytest.fixture
def workers(county):
    started = []

    def start(**env):
        started.append(DeliveryWorker(county["variables"], **env).start())
        return started[-1]
    yield start
    for worker in started:
        worker.stop(signal.SIGKILL)  # a lane may be inside a 10 s request; nothing of it needs saving
        print(worker.log()[-5000:])  # shown when the test failed


def subscribe(county, url, events=DEMAND_EVENTS):
    return ok(county["api"]("POST", "/api/v1/webhooks", county["admin"], {"url": url, "events": events,
                                                                          "description": "测试"}), 201)


def demand_lives(n_demands, start=None):
    """Messages of `n_demands` whole demand lives (created, assigned, resolved, closed), interleaved across
    demands and each demand's in the order of its versions: 4 × n_demands messages, new demands every call."""
    at, prefix = start or utcnow(), uuid.uuid4().hex[:8]
    demands = [rules.new_demand(f"d{prefix}{i:05d}", "market", "融资", "ordinary", "贷款难", at, ADMIN, "E", {"kind": "visit"})
               for i in range(n_demands)]
    out = [[rules.updated_event(d, created=True) for d in demands]]
    steps = (lambda d, t: rules.assign(d, "market", None, t, ADMIN, TERMS),
             lambda d, t: rules.resolve(d, "已办", t, ADMIN),
             lambda d, t: rules.callback(d, 5, None, t, ADMIN, TERMS))
    for k, step in enumerate(steps, 1):
        t = at + timedelta(milliseconds=k)
        demands = [rules.apply(d, step(d, t)) for d in demands]
        out.append([rules.updated_event(d) for d in demands])
    return [m for wave in out for m in wave]


def publish(config, batch, chunk=200):
    publisher = amqp.Publisher(config.amqp_url)
    try:
        for i in range(0, len(batch), chunk):
            assert publisher.publish([(m["type"], m) for m in batch[i:i + chunk]], messages.encode)
    finally:
        publisher.close()


def expected_deliveries(batch, subscription_id):
    return {delivery_id(f"{m['id']}/{kind}/0", subscription_id)
            for m, kind in zip(batch, [_kind(m) for m in batch])}


def _kind(message):
    return {"received": "demand.created", "assigned": "demand.assigned", "resolved": "demand.resolved",
            "closed": "demand.closed"}[message["data"]["status"]]


def versions_in_order_of_arrival(receiver):
    """demand id → its versions in the order they first arrived (repeats of at-least-once left out)."""
    seen, by_demand = set(), {}
    with receiver.lock:
        requests = list(receiver.requests)
    for r in requests:
        if r["headers"]["Manyi-Delivery"] in seen:
            continue
        seen.add(r["headers"]["Manyi-Delivery"])
        data = json.loads(r["body"])["data"]
        by_demand.setdefault(data["demand_id"], []).append(data["version"])
    return by_demand


def deliveries(county, subscription_id, **query):
    qs = "&".join(f"{k}={v}" for k, v in {"limit": 500, **query}.items())
    return ok(county["api"]("GET", f"/api/v1/webhooks/{subscription_id}/deliveries?{qs}", county["admin"]), 200)


# --- the subscription API ------------------------------------------------------------------------------------
def test_the_secret_is_shown_once_and_private_addresses_are_refused(config, survey_app):
    api, admin = FlaskApi(survey_app), config.admin_key
    for url in ("http://127.0.0.1:9000/hook", "http://localhost/x", "http://169.254.169.254/latest/meta-data/",
                "gopher://example.org/"):
        reply = api("POST", "/api/v1/webhooks", admin, {"url": url, "events": ["demand.assigned"]})
        assert reply.status == 400 and "url" in reply.json["errors"], (url, reply)
    reply = api("POST", "/api/v1/webhooks", admin, {"url": "http://93.184.215.14/hook", "events": ["nope"]})
    assert reply.status == 400 and "events" in reply.json["errors"]
    assert api("POST", "/api/v1/webhooks", None, {"url": "http://93.184.215.14/", "events": ["demand.closed"]}).status == 401
    created = ok(api("POST", "/api/v1/webhooks", admin, {"url": "http://93.184.215.14/hook",
                                                         "events": ["demand.closed", "survey.opened"]}), 201)
    assert created["secret"].startswith("whsec_") and created["status"] == "active"
    listed = ok(api("GET", "/api/v1/webhooks", admin), 200)["webhooks"]
    one = ok(api("GET", f"/api/v1/webhooks/{created['id']}", admin), 200)
    assert created["secret"] not in json.dumps([listed, one]) and "secret" not in one
    assert one["deliveries"]["pending"] == 0
    reply = api("PATCH", f"/api/v1/webhooks/{created['id']}", admin, {"url": "http://127.0.0.1/"})
    assert reply.status == 400 and "url" in reply.json["errors"]
    paused = ok(api("PATCH", f"/api/v1/webhooks/{created['id']}", admin, {"status": "paused"}), 200)
    assert paused["status"] == "paused" and paused["paused_reason"]
    assert api("DELETE", f"/api/v1/webhooks/{created['id']}", admin).status == 204
    assert api("GET", f"/api/v1/webhooks/{created['id']}", admin).status == 404
    names = {e["name"] for e in ok(api("GET", "/api/v1/webhooks/events", admin), 200)["events"]}
    assert {"period.released", "bad_rating.received", "response.accepted", "survey.closed"} <= names


# --- delivery -------------------------------------------------------------------------------------------
def test_an_assigned_demand_arrives_signed(county, workers):
    api, admin = county["api"], county["admin"]
    receiver = Receiver().start()
    try:
        hook = subscribe(county, receiver.url, ["demand.assigned", "survey.opened", "bad_rating.received"])
        workers()
        ok(api("POST", "/api/v1/departments", admin, {"code": "market", "name": "县市场监管局"}), 201)
        ent = enterprise()
        ok(api("POST", "/api/v1/enterprises", admin, ent), 201)
        cadre = ok(api("POST", "/api/v1/keys", admin, {"role": "cadre", "name": "张干部"}), 201)["key"]
        visit = ok(api("POST", "/api/v1/visits", cadre, {
            "enterprise": ent["code"], "visited_at": utcnow().isoformat(),
            "ratings": [{"department": "market", "level": 2, "comment": "许可证办理慢"}],
            "demands": [{"department": "market", "category": "融资", "text": "贷款难"}]}), 202)
        demand_id = visit["demand_ids"][0]
        ok(api("POST", f"/api/v1/demands/{demand_id}/assign", admin, {"department": "market"}), 200)
        poll(lambda: any(json.loads(r["body"])["data"].get("demand_id") == demand_id for r in receiver.requests),
             30, what="the demand.assigned webhook")
        by_type = {}
        for r in receiver.requests:
            by_type.setdefault(r["headers"]["Manyi-Event"], []).append(r)
        # the visit's 差评 opened a demand already assigned: two demand.assigned; the listed one's assignment is ours
        assigned = [r for r in by_type["demand.assigned"] if json.loads(r["body"])["data"]["demand_id"] == demand_id]
        r = assigned[0]
        h = r["headers"]
        expected = hmac.new(hook["secret"].encode(), h["Manyi-Timestamp"].encode() + b"." + r["body"],
                            hashlib.sha256).hexdigest()
        assert h["Manyi-Signature"] == f"sha256={expected}"
        assert h["Content-Type"] == "application/json" and abs(int(h["Manyi-Timestamp"]) - time.time()) < 60
        event = json.loads(r["body"])
        assert event["type"] == "demand.assigned" and event["schema_version"] == 1
        assert event["data"]["department"] == "market" and event["data"]["deadline"]
        (bad,) = [json.loads(x["body"])["data"] for x in by_type["bad_rating.received"]]
        assert (bad["department"], bad["level"], bad["comment"], bad["channel"]) == ("market", 2, "许可证办理慢", "visit")
        assert ent["code"] not in json.dumps([json.loads(x["body"]) for x in receiver.requests], ensure_ascii=False)
        poll(lambda: deliveries(county, hook["id"], status="delivered")["deliveries"], 10, what="the delivery record")
        listed = deliveries(county, hook["id"])["deliveries"]
        mine = [d for d in listed if d["id"] == h["Manyi-Delivery"]][0]
        assert mine["event"] == "demand.assigned" and mine["last_code"] == 200 and mine["attempts"] >= 1
        survey = ok(api("POST", "/api/v1/surveys", admin, {
            "code": "2026Q4-w", "title": "满意度", "period": "2026Q4",
            "questions": [{"id": "q1", "type": "rating5", "text": "服务", "department": "market",
                           "indicator": "licensing"}]}), 201)
        ok(api("POST", f"/api/v1/surveys/{survey['id']}/open", admin), 200)
        poll(lambda: [r for r in receiver.requests if r["headers"]["Manyi-Event"] == "survey.opened"], 30,
             what="survey.opened")
    finally:
        receiver.stop()


def test_500_twice_then_200_gets_the_event_once_more_and_then_stops(county, workers):
    receiver = Receiver(statuses=[500, 500]).start()
    try:
        hook = subscribe(county, receiver.url)
        worker = workers()
        batch = demand_lives(1)[:1]
        publish(county["config"], batch)
        poll(lambda: deliveries(county, hook["id"], status="delivered")["deliveries"], 30, what="delivered")
        assert [r["headers"]["Manyi-Delivery"] for r in receiver.requests] == [delivery_id(
            f"{batch[0]['id']}/demand.created/0", hook["id"])] * 3
        (record,) = deliveries(county, hook["id"])["deliveries"]
        assert (record["status"], record["attempts"], record["last_code"]) == ("delivered", 3, 200)
        quiet_until = time.monotonic() + 2.5  # longer than the tests' largest back-off (1 s) twice over
        while time.monotonic() < quiet_until:
            assert len(receiver.requests) == 3, "a delivered event was sent again"
            time.sleep(0.1)
        with urllib.request.urlopen(worker.url + "/metrics", timeout=10) as reply:
            metrics = reply.read().decode()
        assert 'manyi_webhook_deliveries_total{outcome="retry"} 2' in metrics
        assert 'manyi_webhook_deliveries_total{outcome="delivered"} 1' in metrics
        assert "manyi_webhook_pending 0" in metrics
    finally:
        receiver.stop()


def test_a_receiver_down_for_a_while_gets_everything_afterwards_in_order_per_demand(county, workers):
    receiver = Receiver()  # not started: the port refuses connections
    hook = subscribe(county, receiver.url)
    workers()
    batch = demand_lives(10)
    publish(county["config"], batch)
    db = county["db"]
    poll(lambda: db.deliveries.count_documents({"subscription": hook["id"]}) == 40, 30, what="40 stored deliveries")
    poll(lambda: db.deliveries.count_documents({"subscription": hook["id"], "attempts": {"$gte": 2}}) >= 1, 30, what="failed tries")
    receiver.start()
    try:
        poll(lambda: db.deliveries.count_documents({"subscription": hook["id"], "status": "delivered"}) == 40, 60, what="all delivered")
        assert set(receiver.deliveries()) == expected_deliveries(batch, hook["id"])
        orders = versions_in_order_of_arrival(receiver)
        assert len(orders) == 10 and all(v == [1, 2, 3, 4] for v in orders.values()), orders
    finally:
        receiver.stop()


def test_a_thousand_events_with_the_receiver_killed_and_restarted_lose_none(county, workers):
    receiver = Receiver().start()
    hook = subscribe(county, receiver.url)
    workers()
    batch = demand_lives(250)
    sender = threading.Thread(target=publish, args=(county["config"], batch, 50))
    sender.start()
    try:
        poll(lambda: len(receiver.requests) >= 200, 60, what="the first 200 deliveries")
        receiver.stop()
        time.sleep(1.0)  # the receiver stays down a while: that is the scenario, not a wait for a result
        receiver.start()
        sender.join(60)
        expected = expected_deliveries(batch, hook["id"])
        poll(lambda: expected <= set(receiver.deliveries()), 120, what="every delivery at least once")
        assert len(expected) == 1000
        poll(lambda: county["db"].deliveries.count_documents({"subscription": hook["id"], "status": "delivered"}) == 1000, 30,
             what="every delivery recorded as delivered")
        orders = versions_in_order_of_arrival(receiver)
        assert all(v == [1, 2, 3, 4] for v in orders.values())
    finally:
        receiver.stop()


def test_a_slow_receiver_does_not_delay_a_fast_one(county, workers):
    slow, fast = Receiver(delay=10).start(), Receiver().start()
    try:
        subscribe(county, slow.url)
        subscribe(county, fast.url)
        workers()
        batch = demand_lives(5)
        started = time.monotonic()
        publish(county["config"], batch)
        poll(lambda: len(set(fast.deliveries())) == 20, 8, what="all 20 deliveries at the fast receiver")
        assert time.monotonic() - started < 8
        assert len(slow.requests) <= 1  # still inside its first 10 s answer
    finally:
        slow.stop()
        fast.stop()


def test_kill_9_of_the_delivery_worker_loses_nothing(county, workers):
    receiver = Receiver(delay=0.005).start()
    hook = subscribe(county, receiver.url)
    worker = workers()
    batch = demand_lives(100)
    publish(county["config"], batch)
    try:
        poll(lambda: len(receiver.requests) >= 50, 60, what="the first deliveries")
        worker.stop(signal.SIGKILL)
        assert len(set(receiver.deliveries())) < 400, "the worker finished before it could be killed"
        workers()  # a new worker: it takes the lane over once the dead one's lease runs out
        expected = expected_deliveries(batch, hook["id"])
        poll(lambda: expected <= set(receiver.deliveries()), 90, what="every delivery after the kill")
        orders = versions_in_order_of_arrival(receiver)
        assert all(v == [1, 2, 3, 4] for v in orders.values())
    finally:
        receiver.stop()


def test_failed_deliveries_are_kept_and_redelivered_and_a_failing_receiver_is_paused(county, workers):
    api, admin = county["api"], county["admin"]
    receiver = Receiver(statuses=[503] * 1000).start()
    try:
        hook = subscribe(county, receiver.url)
        workers(MANYI_WEBHOOK_RETRY_HOURS="0.0003", MANYI_WEBHOOK_PAUSE_HOURS="0.0008")  # ≈ 1 s and ≈ 3 s
        batch = demand_lives(1)
        publish(county["config"], batch)
        poll(lambda: deliveries(county, hook["id"], status="failed")["deliveries"], 30, what="a failed delivery")
        status = poll(lambda: (lambda h: h if h["status"] == "paused" else None)(
            ok(api("GET", f"/api/v1/webhooks/{hook['id']}", admin), 200)), 30, what="the automatic pause")
        assert "automatically" in status["paused_reason"] and status["failing_since"]
        failed = deliveries(county, hook["id"], status="failed")["deliveries"]
        assert all(d["last_code"] == 503 and d["attempts"] >= 1 for d in failed)
        receiver.statuses.clear()
        tried = len(receiver.requests)
        ok(api("PATCH", f"/api/v1/webhooks/{hook['id']}", admin, {"status": "active"}), 200)
        assert ok(api("POST", f"/api/v1/webhooks/{hook['id']}/deliveries/redeliver", admin, {}), 202)["redelivered"] \
            == len(failed)
        poll(lambda: county["db"].deliveries.count_documents({"subscription": hook["id"], "status": "delivered"}) == 4, 30, what="all delivered")
        assert set(receiver.deliveries()[tried:]) == expected_deliveries(batch, hook["id"])
        one = failed[0]["id"]
        assert ok(api("POST", f"/api/v1/webhooks/{hook['id']}/deliveries/{one}/redeliver", admin), 202)["status"] \
            == "pending"
        poll(lambda: receiver.deliveries().count(one) >= 2, 30, what="the single redelivery")
        pong = ok(api("POST", f"/api/v1/webhooks/{hook['id']}/ping", admin), 202)["delivery"]
        poll(lambda: pong in receiver.deliveries(), 30, what="the ping")
        page = deliveries(county, hook["id"], limit=2)
        rest = deliveries(county, hook["id"], limit=500, cursor=page["next"])
        assert len(page["deliveries"]) == 2 and len(rest["deliveries"]) == 3 and rest["next"] is None
    finally:
        receiver.stop()
