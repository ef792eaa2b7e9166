"""gunicorn's gthread worker, made safe from slow clients: requests are buffered before a thread sees them.

The stock gthread worker hands a connection to a thread as soon as its first byte arrives; the thread
then blocks reading the rest of the head with no timeout, so 16–96 half-open connections (a few KB in
all) froze a process. Here the worker's event loop reads each request's head, and a body up to
BODY_BUFFER, without blocking, and gives the connection to a thread only once they are complete, as a
request-buffering proxy does. A head must arrive within HEAD_SECONDS and a buffered body within
BODY_SECONDS, or the connection is closed; what threads still read themselves (bodies over
BODY_BUFFER, chunked bodies) has a READ_SECONDS timeout per read. In production nginx does the same in
front (docker-compose.yml); this keeps `make up` and a process reached directly just as safe.
"""
import re
import selectors
import time
from functools import partial

from gunicorn.workers.gthread import TConn, ThreadWorker

HEAD_SECONDS = 10.0
BODY_SECONDS = 30.0
READ_SECONDS = 30.0
MAX_HEAD = 64 * 1024  # past this without a blank line the parser refuses the head itself
BODY_BUFFER = 1024 * 1024
_CONTENT_LENGTH = re.compile(rb"\r\ncontent-length[ \t]*:[ \t]*(\d{1,12})[ \t]*(?=\r\n|$)", re.IGNORECASE)
_CHUNKED = re.compile(rb"\r\ntransfer-encoding[ \t]*:", re.IGNORECASE)


class TimedSocket:
    """A client socket whose blocking reads time out: gthread switches sockets to blocking (no timeout)."""

    def __init__(self, sock):
        self._sock = sock

    def setblocking(self, flag):
        if flag:
            self._sock.settimeout(READ_SECONDS)
        else:
            self._sock.setblocking(False)

    def __getattr__(self, name):
        return getattr(self._sock, name)


def expected_length(head):
    """Bytes of the whole request given its head (through the blank line), or None to stop buffering."""
    if _CHUNKED.search(head):
        return None
    match = _CONTENT_LENGTH.search(head)
    body = int(match.group(1)) if match else 0
    return len(head) + body if body <= BODY_BUFFER else None


class BufferingWorker(ThreadWorker):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.buffering = {}  # connection → deadline

    def accept(self, listener):
        try:
            client_sock, client_addr = listener.accept()
        except OSError:  # EAGAIN: another worker took it; ECONNABORTED: the client gave up
            return
        self.nr_conns += 1
        conn = TConn(self.cfg, TimedSocket(client_sock), client_addr, listener.getsockname())  # non-blocking
        self.start_buffering(conn)

    def on_client_socket_readable(self, conn, client):
        """A kept-alive connection speaks again: buffer its next request too."""
        self.poller.unregister(client)
        self.keepalived_conns.remove(conn)
        self.start_buffering(conn)

    def start_buffering(self, conn):
        conn.received, conn.wanted = bytearray(), None
        self.buffering[conn] = time.monotonic() + HEAD_SECONDS
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self.on_buffering_readable, conn))

    def on_buffering_readable(self, conn, _sock):
        try:
            data = conn.sock.recv(65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self.drop(conn)
            return
        conn.received += data
        if conn.wanted is None:
            end = conn.received.find(b"\r\n\r\n")
            if end < 0:
                if len(conn.received) > MAX_HEAD:
                    self.hand_over(conn)
                return
            conn.wanted = expected_length(bytes(conn.received[:end + 4]))
            if conn.wanted is None:  # chunked or large: the thread reads the rest, with READ_SECONDS per read
                self.hand_over(conn)
                return
            self.buffering[conn] = time.monotonic() + BODY_SECONDS
        if len(conn.received) >= conn.wanted:
            self.hand_over(conn)

    def hand_over(self, conn):
        self.poller.unregister(conn.sock)
        del self.buffering[conn]
        conn.buffered, conn.data_ready = bytes(conn.received), True
        conn.received = None
        self.enqueue_req(conn)

    def drop(self, conn):
        try:
            self.poller.unregister(conn.sock)
        except (KeyError, ValueError, OSError):
            pass
        self.buffering.pop(conn, None)
        self.nr_conns -= 1
        conn.close()

    def murder_pending(self):
        super().murder_pending()
        now = time.monotonic()
        for conn in [c for c, deadline in self.buffering.items() if deadline <= now]:
            self.drop(conn)  # a slow client: its head or body did not arrive in time

    def handle(self, conn):
        buffered = getattr(conn, "buffered", None)
        if buffered is not None:
            conn.buffered = None
            conn.sock.setblocking(True)
            conn.init()
            conn.parser.unreader.unread(buffered)
        return super().handle(conn)
