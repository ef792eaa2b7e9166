"""Accepted means durable: with the broker away, answers are stored and published once it is back."""
from datetime import timedelta
from urllib.parse import urlparse

import pytest

from shared import amqp, messages
from tests.api import FlaskApi, ok, setup_survey
from tests.harness import Cutoff, poll

QUESTIONS = [{"id": "q1", "type": "rating5", "text": "满意吗", "department": "market", "required": True}]


@pytest.fixture
def broker_cutoff(rabbit):
    proxy = Cutoff(5672).start()
    yield proxy, rabbit.url.replace("127.0.0.1:5672", f"127.0.0.1:{proxy.port}")
    proxy.close()


def queued_ids(amqp_url, types=(messages.RESPONSE_SUBMITTED, messages.DEMAND_UPDATED)):
    """Ids of the messages of `types` waiting in scoring.events (consumed, so each is seen once).

    Set-up events (department.changed) are published asynchronously and may arrive at any point."""
    connection = amqp.connect(amqp_url)
    channel = connection.channel()
    amqp.declare_topology(channel)
    ids = []
    while True:
        method, props, body = channel.basic_get(amqp.QUEUE, auto_ack=True)
        if method is None:
            break
        message = messages.decode(body)
        if message["type"] in types:
            ids.append(message["id"])
    connection.close()
    return ids


def test_answers_accepted_while_the_broker_is_down_are_published_when_it_returns(make_survey_app, config, rabbit,
                                                                                 broker_cutoff):
    proxy, proxied_url = broker_cutoff
    app = make_survey_app(background=True, amqp_url=proxied_url)
    outbox = app.extensions["manyi"].outbox
    outbox.grace = timedelta(seconds=0.2)
    api, admin = FlaskApi(app), config.admin_key
    _, tokens, ents = setup_survey(api, admin, QUESTIONS)
    queued_ids(rabbit.url)

    proxy.cut()
    assert app.test_client().get("/readyz").status_code == 503
    accepted = [ok(api("POST", "/api/v1/responses", body={"token": tokens[e["code"]], "answers": {"q1": 4}}), 202)
                for e in ents]
    store = app.extensions["manyi"].store
    assert store.responses.count_documents({"published": False}) == len(ents)

    proxy.restore()  # the background relay finds the records and publishes them by itself
    poll(lambda: store.responses.count_documents({"published": False}) == 0, 30, 0.2, "the relay to catch up")
    assert sorted(queued_ids(rabbit.url)) == sorted(a["response_id"] for a in accepted)
    poll(lambda: app.test_client().get("/readyz").status_code == 200, 10, what="ready again")


def test_an_answer_is_published_at_once_when_the_broker_is_up(survey_app, config, rabbit):
    app = survey_app
    api = FlaskApi(app)
    _, tokens, ents = setup_survey(api, config.admin_key, QUESTIONS, enterprises=None)
    queued_ids(rabbit.url)
    reply = ok(api("POST", "/api/v1/responses", body={"token": tokens[ents[0]["code"]], "answers": {"q1": 2}}), 202)
    # the answer, then the 差评 rectification demand its level 2 opened
    (demand,) = app.extensions["manyi"].store.demands.find({"source.id": reply["response_id"]}, {"_id": 1})
    assert queued_ids(rabbit.url) == [reply["response_id"], f"{demand['_id']}:2"]
    assert urlparse(config.amqp_url).path  # the test's own vhost, never the default one


def test_with_the_background_thread_the_dispatcher_publishes_and_marks_what_requests_stored(make_survey_app, config,
                                                                                             rabbit):
    app = make_survey_app(background=True)
    api = FlaskApi(app)
    _, tokens, ents = setup_survey(api, config.admin_key, QUESTIONS)
    queued_ids(rabbit.url)
    ids = [ok(api("POST", "/api/v1/responses", body={"token": tokens[e["code"]], "answers": {"q1": 3}}), 202)["response_id"]
           for e in ents]
    store = app.extensions["manyi"].store
    poll(lambda: store.responses.count_documents({"published": False}) == 0, 10, 0.05, "the dispatcher's marks")
    assert sorted(queued_ids(rabbit.url)) == sorted(ids)  # each once: the relay found nothing left to do
