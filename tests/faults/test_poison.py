"""A poison message costs nothing but itself: 0 lost, 0 double, the worker never exits (issue 10 item 1).

On the old worker a deeply nested message made `messages.decode` raise RecursionError, which escaped the
consumer: the worker died on every redelivery, and after 20 the broker dead-lettered the poison together
with the valid answers prefetched behind it.
"""
from shared import amqp
from tests.faults.scenario import County, manyi, publish_raw
from tests.harness import Processes, _status, poll

N = 40
NESTED = b'{"type":"response.submitted","id":"deep","data":' + b"[" * 200_000 + b"]" * 200_000 + b"}"


def dead_reasons(channel_url):
    from manyi.reconcile import dead_letters
    return dead_letters(channel_url)


def test_poison_messages_are_dead_lettered_alone_and_valid_answers_all_counted(env):
    config, variables = env
    procs = Processes(variables).start()
    try:
        county = County(procs, config, N)
        worker_pid = procs.procs["scoring"].pid
        county.answer_all(range(N // 2))
        publish_raw(config.amqp_url, NESTED, message_id="poison-nested")
        publish_raw(config.amqp_url, b"\xff\xfe not utf-8", message_id="poison-bytes")
        publish_raw(config.amqp_url, b'{"type":"response.submitted","id":"x","occurred_at":"2026-11-01T00:00:00Z",'
                    b'"schema_version":1,"data":{"ratings":"not a list"}}', message_id="poison-shape")
        county.answer_all(range(N // 2, N))

        assert county.wait_counted(60) == (0, 0)
        assert procs.procs["scoring"].poll() is None and procs.procs["scoring"].pid == worker_pid, \
            "the worker exited on a message"
        dead = poll(lambda: (d := dead_reasons(config.amqp_url)) and len(d) == 3 and d, 20, 0.5, "3 dead letters")
        assert set(dead) == {"poison-nested", "poison-bytes", "poison-shape"}
        assert "RecursionError" in dead["poison-nested"]
        assert dead["poison-shape"].startswith("invalid message")
        assert poll(lambda: county.gateway_n() == N, 20, 0.5, "the gateway shows every enterprise")
        code, out = manyi(variables, "check")
        assert code == 0, out
        assert f"{N + 1} accepted, {N + 1} applied, 0 missing" in out  # the answers and the department's event
        assert "scoring.dead holds 3" in out
    finally:
        procs.stop_all()


def test_a_message_that_cannot_be_applied_is_isolated_listed_by_check_and_replayed_after_the_fix(env):
    config, variables = env
    procs = Processes(variables)
    procs.start_survey()
    procs.start_gateway()
    try:
        poll(lambda: _status(procs.survey_url + "/readyz") == 200, 60, 0.2, "survey ready")
        county = County(procs, config, 10)
        county.answer_all(range(10))
        ids = county.message_ids()
        broken = sorted(ids.values())[:2]
        # A bug's stand-in: a stored rating already holds the id the worker derives for these two answers,
        # so applying them fails with a duplicate key (not a passing database state) whatever is retried.
        county.scores().ratings.insert_many([{
            "_id": f"{m}:0", "planted": True, "period": "2000Q1", "department": "market", "indicator": "licensing",
            "enterprise": "planted", "segment": {}, "weight": 1.0, "points": 0.0, "level": 1, "channel": "survey"}
            for m in broken])
        procs.start_worker()
        poll(lambda: county.scores().processed.count_documents({}) == 9, 60, 0.3, "the 8 other answers and the department applied")
        dead = poll(lambda: (d := dead_reasons(config.amqp_url)) and len(d) == 2 and d, 20, 0.5, "2 dead letters")
        assert set(dead) == set(broken) and all("could not be applied" in r for r in dead.values())

        code, out = manyi(variables, "check")
        assert code == 1, out
        assert "11 accepted, 9 applied, 2 missing (2 dead)" in out
        assert all(f"response.submitted {m} " in out for m in broken)

        county.scores().ratings.delete_many({"planted": True})  # the fix
        code, out = manyi(variables, "replay-dead", broken[0])
        assert code == 0 and "1 replayed" in out, out
        poll(lambda: county.scores().processed.count_documents({}) == 10, 30, 0.3, "the replayed one applied")
        for _ in range(2):  # all, twice: idempotent
            code, out = manyi(variables, "replay-dead")
            assert code == 0, out
        assert county.wait_counted(30) == (0, 0)
        poll(lambda: amqp.queue_depths(config.amqp_url) == {amqp.QUEUE: 0, amqp.DEAD_QUEUE: 0}, 20, 0.3, "queues empty")
        code, out = manyi(variables, "check")
        assert code == 0, out
        assert "11 accepted, 11 applied, 0 missing" in out
        assert county.scores().ratings.count_documents({}) == 10
    finally:
        procs.stop_all()
