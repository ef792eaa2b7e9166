"""Fixtures: one embedded MongoDB server per session; a RabbitMQ vhost and fresh databases per test."""
from dataclasses import replace

import pytest

from shared import mongo
from tests import harness


@pytest.fixture(scope="session")
def mongo_server():
    server = harness.MongoServer().start()
    yield server
    mongo.reset_clients()  # the process-wide clients the tests opened through shared.mongo
    server.cleanup()


@pytest.fixture
def rabbit():
    """A vhost per test: queues of one test's worker never see another test's messages."""
    vhost = harness.RabbitVhost().create()
    yield vhost
    vhost.delete()


@pytest.fixture
def env(mongo_server, rabbit):
    """(config, variables) with databases of their own for this test."""
    return harness.make_config(mongo_server.url, rabbit.url)


@pytest.fixture
def config(env):
    return env[0]


@pytest.fixture
def make_survey_app(config):
    """Survey apps on this test's databases: `make_survey_app(background=False, **config changes)`; their
    broker connections and background threads are stopped after the test."""
    from services.survey import create_app
    apps = []

    def make(background=False, **changes):
        app = create_app(replace(config, **changes) if changes else config, background=background)
        apps.append(app)
        return app
    yield make
    for app in apps:
        app.extensions["manyi"].scheduler.stop()
        app.extensions["manyi"].outbox.stop()  # closes the broker connections accepted answers opened


@pytest.fixture
def survey_app(make_survey_app):
    """The survey app on this test's databases, without background threads (publishing happens in requests)."""
    return make_survey_app()


@pytest.fixture
def worker(config):
    """A scoring worker (in-process consumer) on this test's vhost and databases; yields its ScoresStore."""
    running = harness.Worker(config).start()
    yield running.store
    running.stop()


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: takes a minute or more of CPU (make test runs it; -m 'not slow' skips)")
