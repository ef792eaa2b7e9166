"""The arrow deliveries → receivers: one lane (a thread) per subscription, so a slow or dead receiver only
ever delays its own deliveries.

A lane belongs to one worker at a time, under a lease in `lanes` (workers scale out by sharing the
subscriptions; a dead worker's lanes are taken over when its leases run out). A lane sends its due
deliveries oldest first; deliveries with the same `order_key` (a demand's, a survey's) go strictly in
order: one waits while an earlier one waits on its back-off. After a failed try the delivery is due again after an
exponential back-off with jitter, and the lane itself holds off for the same kind of delay (a receiver
that is down is probed, not flooded); when the receiver answers again, the lane's waiting deliveries are
made due at once. A delivery whose next try would fall outside its retry window is marked failed and
kept; a subscription whose receiver has failed for `webhook_pause_hours` is paused by the scheduler,
with the reason, and its lane stops.
"""
import bisect
import logging
import threading
import time
import uuid
from datetime import timedelta

from pymongo.errors import DuplicateKeyError, PyMongoError

from services.delivery.post import Poster
from shared.domain import utcnow
from shared.webhooks import backoff, gives_up

log = logging.getLogger(__name__)
LEASE_SECONDS = 10
TICK_SECONDS = 1.0
BATCH = 200
IDLE_WAIT = 1.0


class Lane(threading.Thread):
    def __init__(self, scheduler, subscription_id):
        super().__init__(name=f"lane-{subscription_id}", daemon=True)
        self.scheduler, self.subscription_id = scheduler, subscription_id
        self.db, self.config, self.health = scheduler.db, scheduler.config, scheduler.health
        self.wake, self.stopping = threading.Event(), threading.Event()
        self.poster = Poster(self.config.webhook_timeout, self.config.webhook_allow_private)
        self.streak = 0         # failed tries in a row
        self.hold_until = 0.0   # monotonic time before which the lane does not try
        self.backoff = None     # see load_backoff

    def run(self):
        try:
            while not self.stopping.is_set():
                try:
                    if not self.pass_once():
                        self.wake.wait(IDLE_WAIT)
                        self.wake.clear()
                except PyMongoError as exc:
                    log.warning("lane %s: database unavailable (%r)", self.subscription_id, exc)
                    self.stopping.wait(1)
        finally:
            self.poster.close()
            self.scheduler.lane_ended(self)

    # --- one pass over the due deliveries -----------------------------------------------------------------
    def load_backoff(self):
        """order key → [(seq, id)] of its pending deliveries that failed a try and wait on their back-off.

        Only they can be pending and not due (a new delivery is due at once), and only this lane tries this
        subscription's deliveries, so after this one read the lane keeps the list itself.
        """
        self.backoff = {}
        for d in self.db.deliveries.find({"subscription": self.subscription_id, "status": "pending",
                                          "attempts": {"$gt": 0}, "order_key": {"$ne": None}},
                                         {"seq": 1, "order_key": 1}):
            bisect.insort(self.backoff.setdefault(d["order_key"], []), (d["seq"], d["_id"]))

    def blocked(self, delivery):
        """An earlier event of the same demand (or survey) is still waiting: this one must wait too."""
        waiting = self.backoff.get(delivery.get("order_key"))
        return bool(waiting) and waiting[0] < (delivery["seq"], delivery["_id"])

    def settled(self, delivery):
        waiting = self.backoff.get(delivery.get("order_key"))
        if waiting and (delivery["seq"], delivery["_id"]) in waiting:
            waiting.remove((delivery["seq"], delivery["_id"]))

    def pass_once(self):
        """Send what is due, in order; False when there was nothing to do (the lane then waits)."""
        if time.monotonic() < self.hold_until:
            self.stopping.wait(min(1.0, self.hold_until - time.monotonic()))
            return True
        subscription = self.db.subscriptions.find_one({"_id": self.subscription_id})
        if subscription is None or subscription["status"] != "active":
            self.stopping.set()
            return False
        if self.backoff is None:
            self.load_backoff()
        # Due deliveries in the order the events happened: any due one left out of this batch comes later
        # than all in it, and the not-due ones that come earlier are in `backoff`. Sorted here again, so that
        # order never rests on how the database breaks ties.
        due = sorted(self.db.deliveries.find(
            {"subscription": self.subscription_id, "status": "pending", "next_attempt_at": {"$lte": utcnow()}},
            {"body": 1, "event": 1, "seq": 1, "order_key": 1, "attempts": 1, "window_from": 1},
        ).sort([("seq", 1), ("_id", 1)]).limit(BATCH), key=lambda d: (d["seq"], d["_id"]))
        delivered, sent = [], 0
        for delivery in due:
            if self.blocked(delivery):
                continue
            outcome = self.poster.post(subscription["url"], subscription["secret"], delivery["event"],
                                       delivery["_id"], delivery["body"].encode())
            sent += 1
            if not outcome.ok:
                self.record(delivered)
                self.failed(subscription, delivery, outcome)
                return True
            delivered.append((delivery["_id"], outcome.code))
            self.settled(delivery)
            if self.stopping.is_set():
                break
        self.record(delivered)
        if delivered:
            self.recovered(subscription)
        return sent > 0

    # --- outcomes ------------------------------------------------------------------------------------------
    def record(self, delivered):
        """Mark successes in one update per answer code (single updates are slow on the embedded server)."""
        now = utcnow()
        by_code = {}
        for delivery_id, code in delivered:
            by_code.setdefault(code, []).append(delivery_id)
        for code, ids in by_code.items():
            self.db.deliveries.update_many(
                {"_id": {"$in": ids}},
                {"$set": {"status": "delivered", "delivered_at": now, "last_code": code, "last_error": None,
                          "last_attempt_at": now, "next_attempt_at": None}, "$inc": {"attempts": 1}})
        self.health.outcome("delivered", len(delivered))

    def failed(self, subscription, delivery, outcome):
        now, config = utcnow(), self.config
        attempts = delivery["attempts"] + 1
        delay = backoff(attempts, config.webhook_backoff, config.webhook_max_backoff)
        final = gives_up(delivery["window_from"], now, delay, config.webhook_retry_hours)
        self.db.deliveries.update_one({"_id": delivery["_id"]}, {"$set": {
            "status": "failed" if final else "pending", "attempts": attempts, "last_code": outcome.code,
            "last_error": outcome.error, "last_attempt_at": now,
            "next_attempt_at": None if final else now + timedelta(seconds=delay)}})
        self.settled(delivery)
        if not final and delivery.get("order_key"):
            bisect.insort(self.backoff.setdefault(delivery["order_key"], []), (delivery["seq"], delivery["_id"]))
        self.health.outcome("failed" if final else "retry", 1)
        self.streak += 1
        self.hold_until = time.monotonic() + backoff(self.streak, config.webhook_backoff, config.webhook_max_backoff)
        if subscription.get("failing_since") is None:  # the scheduler pauses it once this is old enough
            self.db.subscriptions.update_one({"_id": subscription["_id"], "failing_since": None},
                                             {"$set": {"failing_since": now}})
        log.info("lane %s: delivery %s failed (%s); try %d, %s", self.subscription_id, delivery["_id"],
                 outcome.error, attempts, "given up" if final else f"next in {delay:.0f}s")

    def recovered(self, subscription):
        """After a success: end the failure streak and make what waited on the back-off due now."""
        if self.streak == 0 and subscription.get("failing_since") is None:
            return
        self.streak, self.hold_until = 0, 0.0
        now = utcnow()
        self.db.subscriptions.update_one({"_id": subscription["_id"]}, {"$set": {"failing_since": None}})
        self.db.deliveries.update_many(
            {"subscription": subscription["_id"], "status": "pending", "next_attempt_at": {"$gt": now}},
            {"$set": {"next_attempt_at": now}})


def pause_failing(db, pause_hours, now):
    """Pause every active subscription whose receiver has not answered 2xx since `pause_hours` ago, saying why
    (it keeps its pending deliveries). Checked by the scheduler, so that it happens even when no delivery is
    left to try."""
    for subscription in db.subscriptions.find({"status": "active",
                                               "failing_since": {"$lt": now - timedelta(hours=pause_hours)}}):
        last = db.deliveries.find_one({"subscription": subscription["_id"], "last_error": {"$ne": None}},
                                      {"last_error": 1}, sort=[("last_attempt_at", -1)])
        reason = (f"paused automatically: the receiver has failed since {subscription['failing_since'].isoformat()} "
                  f"(last: {last['last_error'] if last else 'unknown'}) / 接收方持续失败，已自动暂停")
        if db.subscriptions.update_one({"_id": subscription["_id"], "status": "active"},
                                       {"$set": {"status": "paused", "paused_at": now, "paused_reason": reason}}
                                       ).modified_count:
            log.warning("webhook %s: %s", subscription["_id"], reason)


class Scheduler:
    """Holds this worker's lanes: takes free subscriptions' leases, renews its own, lets go of the rest."""

    def __init__(self, config, db, health):
        self.config, self.db, self.health = config, db, health
        self.holder = f"{config.worker_id}-{uuid.uuid4().hex[:6]}"
        self.lanes, self._lock = {}, threading.Lock()
        self.stopping = threading.Event()

    def notify(self, subscription_ids):
        """New deliveries for these subscriptions: wake their lanes now rather than at their next poll."""
        for subscription_id in subscription_ids:
            lane = self.lanes.get(subscription_id)
            if lane is not None:
                lane.wake.set()

    def lane_ended(self, lane):
        with self._lock:
            if self.lanes.get(lane.subscription_id) is lane:
                del self.lanes[lane.subscription_id]
        try:
            self.db.lanes.delete_one({"_id": lane.subscription_id, "holder": self.holder})
        except PyMongoError:
            pass  # the lease runs out by itself

    def acquire(self, subscription_id, now):
        try:
            self.db.lanes.find_one_and_update(
                {"_id": subscription_id, "$or": [{"holder": self.holder}, {"until": {"$lt": now}}]},
                {"$set": {"holder": self.holder, "until": now + timedelta(seconds=LEASE_SECONDS)}}, upsert=True)
            return True
        except DuplicateKeyError:
            return False

    def tick(self):
        now = utcnow()
        pause_failing(self.db, self.config.webhook_pause_hours, now)
        mine = list(self.lanes)
        if mine:  # renew, and stop the lanes whose lease another worker took (after we could not renew)
            self.db.lanes.update_many({"_id": {"$in": mine}, "holder": self.holder},
                                      {"$set": {"until": now + timedelta(seconds=LEASE_SECONDS)}})
            held = {d["_id"] for d in self.db.lanes.find({"_id": {"$in": mine}, "holder": self.holder}, {"_id": 1})}
            for subscription_id in set(mine) - held:
                self.lanes[subscription_id].stopping.set()
        active = [s["_id"] for s in self.db.subscriptions.find({"status": "active"}, {"_id": 1})]
        leases = {d["_id"]: d for d in self.db.lanes.find({"_id": {"$in": active}})}
        for subscription_id in active:
            if subscription_id in self.lanes:
                continue
            lease = leases.get(subscription_id)
            if lease and lease["holder"] != self.holder and lease["until"] > now:
                continue
            if self.acquire(subscription_id, now):
                lane = Lane(self, subscription_id)
                with self._lock:
                    self.lanes[subscription_id] = lane
                lane.start()
                log.info("lane %s taken by %s", subscription_id, self.holder)

    def run(self):
        while not self.stopping.is_set():
            try:
                self.tick()
            except PyMongoError as exc:
                log.warning("scheduler: database unavailable (%r)", exc)
            self.stopping.wait(TICK_SECONDS)
        for lane in list(self.lanes.values()):
            lane.stopping.set()
            lane.wake.set()
        for lane in list(self.lanes.values()):
            lane.join(self.config.webhook_timeout + 2)

    def start(self):
        thread = threading.Thread(target=self.run, name="lanes", daemon=True)
        thread.start()
        return thread
