"""The worker's health over HTTP: `/healthz` (alive) and `/readyz` (broker and database reachable)."""
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Health:
    def __init__(self):
        self.amqp_ok = False
        self.mongo_ok = False
        self.messages = 0
        self.ratings = 0
        self.last_batch_at = None
        self.started = time.time()

    def batch_done(self, messages, ratings):
        self.messages += messages
        self.ratings += ratings
        self.last_batch_at = time.time()

    def snapshot(self):
        return {"ready": self.amqp_ok and self.mongo_ok, "rabbitmq": self.amqp_ok, "mongodb": self.mongo_ok,
                "messages": self.messages, "ratings": self.ratings, "last_batch_at": self.last_batch_at,
                "uptime_s": round(time.time() - self.started, 1)}


def serve(health, port, ping_mongo):
    """Serve health on 127.0.0.1:`port` in a daemon thread; returns the server (port 0 picks one)."""
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path == "/healthz":
                status, body = 200, {"status": "ok"}
            elif self.path == "/readyz":
                try:
                    ping_mongo()
                    health.mongo_ok = True
                except Exception:  # unreachable for any reason means not ready
                    health.mongo_ok = False
                body = health.snapshot()
                status = 200 if body["ready"] else 503
            else:
                status, body = 404, {"message": "not found"}
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    # Loopback only, as the web processes listen: probes run beside the worker (compose runs them in its container).
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, name="health", daemon=True).start()
    return server
