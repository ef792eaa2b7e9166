"""Fixtures: one embedded MongoDB server per session; a RabbitMQ vhost and fresh databases per test."""
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


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: takes a minute or more of CPU (make test runs it; -m 'not slow' skips)")
