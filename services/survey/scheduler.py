"""Periodic duties of the survey service (the ledger's overdue sweep), in a thread of their own.

Every process runs a scheduler, but only the one holding the `scheduler` lease runs the duties, so a
duty runs once per period across the county's web processes. A duty that fails is logged and tried
again at its next turn.
"""
import atexit
import logging
import threading
import time
import uuid

from services.survey.outbox import holds_lease

log = logging.getLogger(__name__)
TICK_SECONDS = 1.0


class Scheduler:
    def __init__(self, leases, worker_id):
        self.leases = leases
        self.holder = f"{worker_id}-{uuid.uuid4().hex[:6]}"
        self.duties = []  # [seconds, callable, next run]
        self._stop = threading.Event()
        self._thread = None

    def every(self, seconds, duty):
        """Run `duty()` every `seconds` (first after `seconds`)."""
        self.duties.append([seconds, duty, time.monotonic() + seconds])

    def run_due(self):
        """Run the duties whose time has come, if this process holds the lease; returns how many ran."""
        due = [d for d in self.duties if d[2] <= time.monotonic()]
        if not due or not holds_lease(self.leases, "scheduler", self.holder):
            return 0
        for duty in due:
            duty[2] = time.monotonic() + duty[0]
            try:
                duty[1]()
            except Exception:  # whatever it was, the duty is tried again at its next turn
                log.exception("scheduled duty %s failed", getattr(duty[1], "__name__", duty[1]))
        return len(due)

    def start(self):
        if self._thread is None and self.duties:
            self._thread = threading.Thread(target=self._run, name="scheduler", daemon=True)
            self._thread.start()
            atexit.register(self.stop)

    def stop(self):
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)

    def _run(self):
        while not self._stop.wait(TICK_SECONDS):
            try:
                self.run_due()
            except Exception as exc:  # the lease's database away: try at the next tick
                log.warning("scheduler: %r", exc)
