"""The survey service's parts on an in-memory database, for use-case tests without a server.

The stores are the real ones over mongomock (an in-memory MongoDB), so a fake never drifts from the
store it stands for; what is faked is the database, the broker (a `RecordingOutbox` that keeps what
would be published) and transactions (run as plain writes: atomicity is for the real-server tests,
tests/integration/test_unit_of_work.py).
"""
import mongomock

from services.survey.bootstrap import bootstrap
from shared import config as config_module


class RecordingOutbox:
    """The outbox's hand-over to the broker, recorded: [(collection, record id, routing key, message)]."""

    def __init__(self):
        self.published = []

    def publish_now(self, collection, record_id, routing_key, message):
        self.published.append((collection, record_id, routing_key, message))
        return True

    def routing_keys(self):
        return [routing_key for _, _, routing_key, _ in self.published]


def run_without_transaction(client, work):
    return work(None)


def fake_services(**variables):
    """SurveyServices on a fresh in-memory database, with a recording outbox (`services.outbox.published`)."""
    config = config_module.load({"MANYI_ADMIN_KEY": "mk_unit_admin", "MANYI_WORKER_ID": "unit", **variables})
    return bootstrap(config, client=mongomock.MongoClient(tz_aware=True), outbox=RecordingOutbox(),
                     transaction=run_without_transaction)
