"""A real webhook receiver for tests and the benchmark: an HTTP server on a free port that records every POST
and answers as told (a script of status codes, a delay). `stop()` kills it for real: the listener and
every kept-alive connection are closed, so the sender sees a receiver that is down."""
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.harness import free_port


class Receiver:
    def __init__(self, port=None, statuses=(), delay=0.0):
        self.port = port or free_port()
        self.statuses, self.delay = list(statuses), delay
        self.requests = []  # {"headers", "body", "at"} in order of arrival
        self.lock = threading.Lock()
        self.server = None
        self._sockets = set()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}/hooks/manyi"

    def deliveries(self):
        with self.lock:
            return [r["headers"]["Manyi-Delivery"] for r in self.requests]

    def start(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as real receivers do

            def setup(self):
                super().setup()
                # Headers and body go out in two writes: without this, Nagle's algorithm and delayed ACKs
                # hold every answer ~40 ms, as production HTTP servers never do.
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                receiver._sockets.add(self.connection)

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length)
                if len(body) < length:  # the receiver was stopped while the body arrived: nothing was received
                    self.close_connection = True
                    return
                with receiver.lock:
                    receiver.requests.append({"headers": dict(self.headers), "body": body, "at": time.time(),
                                              "path": self.path})
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                if receiver.delay:
                    time.sleep(receiver.delay)
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        if self.server is None:
            return
        self.server.shutdown()
        self.server.server_close()
        for sock in list(self._sockets):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._sockets.clear()
        self.server = None
