"""Operability shared by the three processes: JSON logs with a request id, metrics, one warning per outage.

Logs: one JSON object a line with `time` (UTC, ms), `level`, `process` (survey, gateway, scoring), `pid`,
`logger`, `message`, and `request_id` when the line belongs to a request or to a message that carried
one (header `x-request-id`, so one answer can be followed from its 202 to the worker's batch).

Metrics: Prometheus, through prometheus_client. Under gunicorn every worker is a process of its own, so
the web processes count in PROMETHEUS_MULTIPROC_DIR (set by deploy/gunicorn.conf.py) and `/metrics`
sums the files of every worker. Figures that live in the database or the broker (outbox backlog, queue
depth) are read when scraped, by collectors, so no process has to keep them up to date.
"""
import contextvars
import json
import logging
import os
import re
import sys
import threading
import time
from datetime import UTC, datetime

from prometheus_client import Counter, Histogram

REQUEST_ID = contextvars.ContextVar("manyi_request_id", default=None)
REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
_EXTRA = ("request_id", "message_id", "method", "path", "route", "status", "ms", "remote", "dependency")

HTTP_REQUESTS = Counter("manyi_http_requests_total", "HTTP requests answered, by route and status",
                        ["process", "method", "route", "status"])
HTTP_SECONDS = Histogram("manyi_http_request_seconds", "Time to answer an HTTP request", ["process", "route"],
                         buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
CONSUMED = Counter("manyi_messages_consumed_total", "Messages the scoring worker took from scoring.events")
DEAD_LETTERED = Counter("manyi_messages_dead_lettered_total", "Messages the scoring worker sent to scoring.dead")
COMMIT_SECONDS = Histogram("manyi_batch_commit_seconds", "Time to commit one batch (one transaction)",
                           buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
PUBLISHED = Counter("manyi_messages_published_total", "Messages the survey service published (confirmed)",
                    ["path"])


def request_id():
    return REQUEST_ID.get()


def clean_request_id(value):
    """A client's X-Request-Id when it is a plain token (never echo arbitrary bytes into logs)."""
    return value if value and REQUEST_ID_RE.match(value) else None


class JsonFormatter(logging.Formatter):
    def __init__(self, process):
        super().__init__()
        self.process = process

    def format(self, record):
        line = {"time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
                "level": record.levelname, "process": self.process, "pid": record.process,
                "logger": record.name, "message": record.getMessage()}
        rid = getattr(record, "request_id", None) or REQUEST_ID.get()
        if rid:
            line["request_id"] = rid
        for key in _EXTRA[1:]:
            if getattr(record, key, None) is not None:
                line[key] = getattr(record, key)
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def setup_logging(process, level=logging.INFO, loggers=("gunicorn.error",)):
    """JSON lines on stderr for the root logger and the named ones (gunicorn's own); idempotent."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(process))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in loggers:
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.propagate = False
    logging.getLogger("pika").setLevel(logging.WARNING)  # pika narrates every connection at INFO


class Outage:
    """One warning when a dependency goes away and one line when it is back, not a stack trace a request."""

    QUIET_SECONDS = 30  # a failure this long after the last one is a new outage

    def __init__(self, name, logger=None):
        self.name, self.log = name, logger or logging.getLogger("manyi.outage")
        self._since = self._last = None
        self._lock = threading.Lock()

    def failed(self, exc):
        now = time.monotonic()
        with self._lock:
            new = self._since is None or now - self._last > self.QUIET_SECONDS
            if new:
                self._since = now
            self._last = now
        if new:
            self.log.warning("%s unavailable: %r (answering 503 until it is back)", self.name, exc,
                             extra={"dependency": self.name})

    def recovered(self):
        with self._lock:
            since, self._since = self._since, None
        if since is not None:
            self.log.warning("%s available again after %.1f s", self.name, time.monotonic() - since,
                             extra={"dependency": self.name})

    @property
    def down(self):
        return self._since is not None


def metrics_text(extra_collectors=()):
    """The exposition text of this process (every gunicorn worker's, in multiprocess mode) and extras."""
    from prometheus_client import REGISTRY, CollectorRegistry, generate_latest, multiprocess
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    text = generate_latest(registry)
    if extra_collectors:
        extra = CollectorRegistry()
        for collector in extra_collectors:
            extra.register(collector)
        text += generate_latest(extra)
    return text


class FunctionCollector:
    """A collector whose metric families a function yields at scrape time (read from MongoDB or RabbitMQ)."""

    def __init__(self, collect):
        self._collect = collect

    def collect(self):
        try:
            yield from self._collect()
        except Exception as exc:  # a dependency away: the scrape still answers, without these figures
            logging.getLogger(__name__).debug("collector failed: %r", exc)

    def describe(self):
        return []
