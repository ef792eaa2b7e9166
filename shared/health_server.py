"""A worker's health over HTTP, the scoring and the delivery workers alike: `/healthz` (alive), `/readyz`
(200 when ready, else 503; the body says why) and `/metrics` (Prometheus text).

Loopback only, as the web processes listen: probes run beside the worker (compose runs them in its container).
"""
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def serve(port, readiness, metrics):
    """Serve on 127.0.0.1:`port` in a daemon thread; returns the server (port 0 picks one).

    `readiness()` → a dict with `ready` (it checks what it must, e.g. pings the database); `metrics()` → the
    exposition text; when it raises (the database away), the scrape answers 503 rather than hang."""
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            content_type = "application/json"
            if self.path == "/healthz":
                status, body = 200, {"status": "ok"}
            elif self.path == "/readyz":
                body = readiness()
                status = 200 if body["ready"] else 503
            elif self.path == "/metrics":
                try:
                    status, body, content_type = 200, metrics(), "text/plain; version=0.0.4"
                except Exception as exc:  # whatever failed, the scrape says so
                    status, body = 503, {"message": f"metrics unavailable: {exc!r}"[:200]}
            else:
                status, body = 404, {"message": "not found"}
            data = body.encode() if isinstance(body, str) else body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, name="health", daemon=True).start()
    return server


def pinged(health, ping):
    """`health.snapshot()` after trying `ping()`: `mongo_ok` says whether the database answered."""
    try:
        ping()
        health.mongo_ok = True
    except Exception:  # unreachable for any reason means not ready
        health.mongo_ok = False
    return health.snapshot()
