"""`python -m services.delivery`: the webhook delivery worker (issue 17). Scale it out by running more."""
import logging
import signal

from services.delivery.fanout import Fanout
from services.delivery.health import Health, serve
from services.delivery.lanes import Scheduler
from shared import config as config_module
from shared.webhooks import WebhookDb


def main():
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config = config_module.load()
    db = WebhookDb(config)
    health = Health()
    serve(health, config.delivery_health_port, db)
    try:
        db.ensure_indexes()
        health.mongo_ok = True
    except Exception as exc:  # the database may come later; the loops wait for it
        logging.getLogger(__name__).warning("indexes not created yet: %r", exc)
    scheduler = Scheduler(config, db, health)
    scheduler.start()
    fanout = Fanout(config, db, health, notify=scheduler.notify)

    def stop(signum, frame):
        fanout.stopping = True
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        fanout.run()
    except KeyboardInterrupt:
        fanout.stopping = True
    finally:
        fanout.close()
        scheduler.stopping.set()


if __name__ == "__main__":
    main()
