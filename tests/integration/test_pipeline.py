"""publish → RabbitMQ → scoring worker (in-process consumer) → MongoDB, against the real servers."""
import threading
from dataclasses import replace

import pytest

from services.scoring.consumer import Consumer
from services.scoring.health import Health
from services.scoring.repository import ScoresStore
from services.scoring.rescore import check
from shared import amqp, messages
from shared.scoring import merge_aggregates, quantized
from tests.factories import department_event, enterprise, rating, ratings_event
from tests.harness import Worker, poll


@pytest.fixture
def publish(config):
    publisher = amqp.Publisher(config.amqp_url)

    def send(*msgs):
        assert publisher.publish([(m["type"], m) for m in msgs], messages.encode)
    yield send
    publisher.close()


def part(voice, indicator):
    return next(p for p in voice["parts"] if p["indicator"] == indicator)


def department_stats(store, period, department):
    return merge_aggregates(store.aggregates.find({"period": period, "department": department}))[department]


def test_published_ratings_are_stored_as_voices_and_aggregates(worker, publish):
    a, b = enterprise(), enterprise()
    publish(ratings_event(a, [rating("market", 5, "licensing"), rating("market", 3, "inspection", weight=2.0)]),
            ratings_event(b, [rating("market", 1, "licensing")]),
            department_event("market", "县市场监督管理局"))
    poll(lambda: worker.processed.count_documents({}) == 3, what="three messages processed")
    inspection = part(worker.voices.find_one({"_id": f"2026Q4|market|{a['code']}"}), "inspection")
    assert (inspection["swp"], inspection["sw"], inspection["levels"]) == (100.0, 2.0, {"3": 1})
    stats = department_stats(worker, "2026Q4", "market")
    assert stats[("all",)]["n"] == 2 and stats[("all",)]["channels"] == {"survey": 3}
    assert stats[("all",)]["levels"] == {"5": 1, "3": 1, "1": 1}
    assert department_stats(worker, "2026", "market")[("all",)]["n"] == 2  # the year counts them too
    assert worker.ratings.count_documents({}) == 3
    assert worker.departments.find_one({"_id": "market"})["name"] == "县市场监督管理局"


def test_a_redelivered_message_changes_nothing(worker, publish, config, capsys):
    ent = enterprise()
    event = ratings_event(ent, [rating("tax", 4)])
    publish(event)
    poll(lambda: worker.processed.count_documents({}) == 1, what="the first delivery")
    before = list(worker.voices.find({}))
    publish(event, event)  # the same id twice more: as after a crash between commit and ack
    marker = ratings_event(enterprise(), [rating("tax", 2)])
    publish(marker)  # processed after the duplicates, so once it is stored they have been seen
    poll(lambda: worker.processed.count_documents({"_id": marker["id"]}) == 1, what="the marker")
    voice = worker.voices.find_one({"_id": f"2026Q4|tax|{ent['code']}"})
    assert voice == next(v for v in before if v["_id"] == voice["_id"])
    assert worker.ratings.count_documents({"message_id": event["id"]}) == 1
    assert check(config) == 0


def test_a_malformed_message_is_dead_lettered_with_its_reason_and_the_worker_goes_on(worker, config):
    connection = amqp.connect(config.amqp_url)
    channel = connection.channel()
    channel.confirm_delivery()
    bad_level = ratings_event(enterprise(), [rating("tax", 9)])
    channel.basic_publish(amqp.EXCHANGE, "response.submitted", b"{not json", amqp.properties({"id": "x1", "type": "?", "schema_version": 1}))
    channel.basic_publish(amqp.EXCHANGE, "response.submitted", messages.encode(bad_level), amqp.properties(bad_level))
    good = ratings_event(enterprise(), [rating("tax", 4)])
    channel.basic_publish(amqp.EXCHANGE, "response.submitted", messages.encode(good), amqp.properties(good))
    poll(lambda: worker.processed.count_documents({"_id": good["id"]}) == 1, what="the good message")

    def dead():
        method, props, body = channel.basic_get(amqp.DEAD_QUEUE, auto_ack=True)
        return (props, body) if method else None
    reasons = {}
    for _ in range(2):
        props, body = poll(dead, 10, what="a dead-lettered message")
        reasons[body] = props.headers[amqp.REASON_HEADER]
    connection.close()
    assert "not JSON" in reasons[b"{not json"]
    assert "level" in reasons[messages.encode(bad_level)]
    assert worker.processed.count_documents({}) == 1


def test_the_stored_aggregates_equal_a_recomputation_from_the_ratings(worker, publish, config, capsys):
    ents = [enterprise() for _ in range(6)]
    events = [ratings_event(e, [rating("land", lv, "registration", weight=2.0), rating("land", 6 - lv, "survey")])
              for e, lv in zip(ents, (1, 2, 3, 4, 5, 5))]
    publish(*events)
    poll(lambda: worker.processed.count_documents({}) == 6, what="six messages")
    assert check(config) == 0
    worker.aggregates.update_one({"period": "2026Q4"}, {"$inc": {"scopes.0.n": 1}})  # corrupt one: check must notice
    assert check(config) == 1
    assert "differences" in capsys.readouterr().out
    from services.scoring.rescore import rescore
    assert rescore(config) == 0 and check(config) == 0


def test_the_worker_reconnects_by_itself_after_the_broker_goes_away(config, publish):
    from tests.harness import Cutoff
    proxy = Cutoff(5672).start()
    proxied = replace(config, amqp_url=config.amqp_url.replace("127.0.0.1:5672", f"127.0.0.1:{proxy.port}"))
    store = ScoresStore(config)
    consumer = Consumer(proxied, store, Health())
    thread = threading.Thread(target=consumer.run, daemon=True)
    thread.start()
    try:
        poll(lambda: consumer.health.amqp_ok, 10, what="connected")
        proxy.cut()
        poll(lambda: not consumer.health.amqp_ok, 10, what="the worker to notice the broker is gone")
        event = ratings_event(enterprise(), [rating("tax", 3)])
        publish(event)  # straight to the broker, while the worker cannot reach it
        proxy.restore()
        poll(lambda: store.processed.count_documents({"_id": event["id"]}) == 1, 40, 0.1, "processed after reconnecting")
    finally:
        consumer.stopping = True
        proxy.close()
        thread.join(40)


def test_competing_workers_keep_their_own_shards_and_sum_to_the_recomputation(config, publish):
    """Two workers on one queue (DESIGN §2 scale-out), each enterprise rating again and again: every
    answer replaces the enterprise's score in the aggregates; the workers' aggregate shards are their
    own, and two of them changing one enterprise's voice is a write conflict retried, not a lost update."""
    small_batches = {"batch_size": 5, "prefetch": 5}
    workers = [Worker(replace(config, worker_id=name, **small_batches)).start() for name in ("w1", "w2")]
    try:
        ents = [enterprise() for _ in range(4)]
        events = [ratings_event(ents[i % 4], [rating("market", 1 + i % 5, "licensing")], id_=f"m{i}")
                  for i in range(200)]
        for i in range(0, 200, 20):
            publish(*events[i:i + 20])
        store = workers[0].store
        poll(lambda: store.processed.count_documents({}) == 200, 30, what="200 messages processed")
        shards = {a["shard"] for a in store.aggregates.find({})}
        assert shards == {"w1", "w2"}, "both workers took batches"
        scores = []
        for ent in ents:  # every enterprise rated 50 times, by both workers
            licensing = part(store.voices.find_one({"_id": f"2026Q4|market|{ent['code']}"}), "licensing")
            levels = [1 + i % 5 for i in range(200) if i % 4 == ents.index(ent)]
            assert licensing["sw"] == 50
            assert licensing["swp"] == pytest.approx(sum((lv - 1) * 25.0 for lv in levels))
            scores.append(licensing["swp"] / licensing["sw"])
        stats = department_stats(store, "2026Q4", "market")[("all",)]
        assert stats["n"] == 4, "one voice per enterprise, however many workers"
        assert int(stats["s1"]) == sum(quantized(s) for s in scores)
        assert check(config) == 0
    finally:
        for running in workers:
            running.stop()


def test_a_rescore_while_the_worker_applies_answers_loses_nothing(worker, publish, config):
    """`manyi rescore` rewrites only the voices that differ, while the worker goes on replacing enterprises'
    scores: whichever commits first, the other meets a write conflict or builds on it (repository.py
    `replace_department`), so the figures equal a recomputation once both are done."""
    from services.scoring.rescore import rescore
    ents = [enterprise() for _ in range(6)]
    events = [ratings_event(ents[i % 6], [rating("market", 1 + i % 5, "licensing"), rating("tax", 5 - i % 5)],
                            id_=f"r{i}") for i in range(240)]
    publish(*events[:40])
    poll(lambda: worker.processed.count_documents({}) == 40, 30, what="the first 40 applied")
    worker.voices.update_one({"period": "2026Q4", "department": "tax"}, {"$set": {"parts.0.sw": 99.0}})  # stale
    rescores = 0
    for i in range(40, 240, 20):
        publish(*events[i:i + 20])
        assert rescore(config, "2026Q4", lambda line: None) == 0
        rescores += 1
    poll(lambda: worker.processed.count_documents({}) == 240, 60, what="all 240 applied")
    assert rescores == 10 and check(config) == 0


def test_a_rescore_repairs_the_nps_voices_it_finds_wrong_and_leaves_the_rest(worker, publish, config):
    from services.scoring.rescore import rescore
    ents = [enterprise() for _ in range(3)]
    publish(*[ratings_event(e, [rating("market", 4)], nps=score) for e, score in zip(ents, (10, 7, 3))])
    poll(lambda: worker.processed.count_documents({}) == 3, 30, what="three answers")
    wrong = f"2026Q4|{ents[0]['code']}"
    worker.nps_voices.update_one({"_id": wrong}, {"$set": {"score": 0}})
    untouched = worker.nps_voices.find_one({"_id": f"2026Q4|{ents[1]['code']}"})
    assert rescore(config, "2026Q4", lambda line: None) == 0 and check(config) == 0
    assert worker.nps_voices.find_one({"_id": wrong})["score"] == 10
    assert worker.nps_voices.find_one({"_id": f"2026Q4|{ents[1]['code']}"}) == untouched
