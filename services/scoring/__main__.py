"""`python -m services.scoring`: the scoring worker process."""
import logging
import signal

from services.scoring.consumer import Consumer
from services.scoring.health import Health, serve
from services.scoring.repository import ScoresStore
from shared import config as config_module
from shared import mongo, observe


def main():
    observe.setup_logging("scoring")
    config = config_module.load()
    store = ScoresStore(config)
    mongo.announce_sessions(store.db)  # a successor can end this process's open transaction if it is killed
    health = Health()
    serve(health, config.scoring_health_port, store.ping, config.amqp_url)
    try:
        store.ensure_indexes()
        health.mongo_ok = True
    except Exception as exc:  # the database may come later; commit() waits for it
        logging.getLogger(__name__).warning("indexes not created yet: %r", exc)
    consumer = Consumer(config, store, health)

    def stop(signum, frame):
        consumer.stopping = True
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        consumer.run()
    except KeyboardInterrupt:
        consumer.stopping = True
    finally:
        consumer.close()


if __name__ == "__main__":
    main()
