"""One try of one delivery: a signed POST over a kept-alive connection; 2xx within the timeout is success.

Redirects are not followed (a 3xx is a failure): following them would let a receiver point us at an
address the URL check refused. The address is checked again before each try, cached for a minute.
"""
import http.client
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from shared.egress import url_problem
from shared.webhooks import signature

USER_AGENT = "Manyi-Webhooks/1"
READ_LIMIT = 64 * 1024
CHECK_SECONDS = 60


@dataclass
class Outcome:
    ok: bool
    code: int | None  # the HTTP status, None when there was no answer
    error: str | None


class Poster:
    """The sender of one lane (one subscription): its own connection, never shared between threads."""

    def __init__(self, timeout, allow_private):
        self.timeout, self.allow_private = timeout, allow_private
        self._conn, self._conn_key = None, None
        self._served = 0  # answers read over the current connection
        self._checked = {}  # url → (problem, checked at)

    def problem(self, url):
        cached = self._checked.get(url)
        if cached is None or time.monotonic() - cached[1] > CHECK_SECONDS:
            cached = (url_problem(url, self.allow_private), time.monotonic())
            self._checked = {url: cached}
        return cached[0]

    def connection(self, parts):
        key = (parts.scheme, parts.hostname, parts.port)
        if self._conn is None or self._conn_key != key:
            self.close()
            cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
            self._conn, self._conn_key = cls(parts.hostname, parts.port, timeout=self.timeout), key
            self._served = 0
        return self._conn

    def close(self):
        if self._conn is not None:
            self._conn.close()
        self._conn = None

    def post(self, url, secret, event_type, delivery_id, body):
        problem = self.problem(url)
        if problem:
            return Outcome(False, None, f"refused: {problem}")
        parts = urlsplit(url)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        timestamp = str(int(time.time()))
        headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT, "Manyi-Event": event_type,
                   "Manyi-Delivery": delivery_id, "Manyi-Timestamp": timestamp,
                   "Manyi-Signature": signature(secret, timestamp, body)}
        for attempt in (1, 2):  # a kept-alive connection the receiver closed is retried once on a fresh one
            conn = self.connection(parts)
            kept_alive = self._served > 0
            try:
                conn.request("POST", path, body, headers)
                response = conn.getresponse()
                response.read(READ_LIMIT)
                self._served += 1
                if not response.isclosed():
                    self.close()  # an answer longer than we read: do not reuse the connection
                if response.will_close:
                    self.close()
                ok = 200 <= response.status < 300
                return Outcome(ok, response.status, None if ok else f"HTTP {response.status} {response.reason}")
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as exc:
                self.close()
                if attempt == 2 or not kept_alive:
                    return Outcome(False, None, f"connection lost: {exc!r}"[:300])
            except (OSError, http.client.HTTPException) as exc:
                self.close()
                return Outcome(False, None, f"{type(exc).__name__}: {exc}"[:300])
        return Outcome(False, None, "unreachable")

