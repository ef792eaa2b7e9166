"""Real servers for tests and benchmarks: the embedded MongoDB, a private RabbitMQ vhost, our processes.

Every run gets its own MongoDB server (free port, temporary storage) and its own RabbitMQ vhost, so
tests never touch the data or queues of a `make up` running beside them.
"""
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

from shared import config as config_module

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def poll(check, timeout=20.0, interval=0.05, what="condition"):
    """Call `check` until it returns a truthy value; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = check()
            if last:
                return last
        except Exception as exc:  # a check may fail while a server is still coming up
            last = exc
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


def port_open(port, host="127.0.0.1"):
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


class MongoServer:
    """secantusd-py (DESIGN §8) on a free port with on-disk storage, so kill -9 tests mean something."""

    def __init__(self, directory=None):
        """`directory`: keep the data there (a benchmark reusing what it loaded); by default a temporary one."""
        self.port = free_port()
        self.keep = directory is not None
        self.dir = directory or tempfile.mkdtemp(prefix="manyi-mongo-")
        os.makedirs(self.dir, exist_ok=True)
        self.proc = None

    @property
    def url(self):
        return f"mongodb://127.0.0.1:{self.port}/?directConnection=true"

    def start(self):
        with open(os.path.join(self.dir, "server.log"), "ab") as log:  # the child keeps its own handle
            self.proc = subprocess.Popen([str(BIN / "secantusd-py"), "--port", str(self.port), "--storage-path",
                                          os.path.join(self.dir, "data"), "--log-level", "WARNING"],
                                         stdout=log, stderr=log, start_new_session=True)
        poll(lambda: port_open(self.port), 60, 0.1, "the embedded MongoDB server")
        return self

    def stop(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def kill(self):
        self.stop(signal.SIGKILL)

    def cleanup(self):
        self.stop()
        if not self.keep:
            shutil.rmtree(self.dir, ignore_errors=True)


def rabbitmqctl(*args):
    subprocess.run(["rabbitmqctl", *args], check=True, capture_output=True, timeout=60)


class RabbitVhost:
    """A private vhost on the machine's RabbitMQ (guest/guest), deleted afterwards."""

    def __init__(self):
        self.name = f"manyi-test-{uuid.uuid4().hex[:8]}"

    @property
    def url(self):
        return f"amqp://guest:guest@127.0.0.1:5672/{urllib.parse.quote(self.name, safe='')}"

    def create(self):
        rabbitmqctl("add_vhost", self.name)
        rabbitmqctl("set_permissions", "-p", self.name, "guest", ".*", ".*", ".*")
        return self

    def delete(self):
        try:
            rabbitmqctl("delete_vhost", self.name)
        except subprocess.SubprocessError:
            pass


class Worker:
    """The scoring worker's consumer in a thread of this process (integration tests)."""

    def __init__(self, config):
        from services.scoring.consumer import Consumer
        from services.scoring.health import Health
        from services.scoring.repository import ScoresStore
        self.store = ScoresStore(config)
        self.consumer = Consumer(config, self.store, Health())
        self.thread = threading.Thread(target=self.consumer.run, daemon=True)

    def start(self):
        self.store.ensure_indexes()
        self.thread.start()
        poll(lambda: self.consumer.health.amqp_ok, 10, what="the consumer to connect")
        return self

    def stop(self):
        self.consumer.stopping = True
        self.thread.join(10)


def make_config(mongo_url, amqp_url, **env):
    """A Config with fresh database names, built the way the processes build theirs: from variables."""
    suffix = uuid.uuid4().hex[:8]
    variables = {"MANYI_MONGO_URL": mongo_url, "MANYI_AMQP_URL": amqp_url,
                 "MANYI_SURVEY_DB": f"t_survey_{suffix}", "MANYI_SCORES_DB": f"t_scores_{suffix}",
                 "MANYI_GATEWAY_DB": f"t_gateway_{suffix}", "MANYI_WEBHOOKS_DB": f"t_webhooks_{suffix}",
                 "MANYI_ADMIN_KEY": f"mk_test_admin_{suffix}", "MANYI_RATE_LIMIT": "0",
                 "MANYI_BATCH_LINGER_MS": "20", **env}
    return config_module.load(variables), variables


class Processes:
    """The three real processes, on free ports, configured only by environment variables."""

    def __init__(self, variables, workers=2, log_dir=None):
        self.env = {**os.environ, **variables}
        self.survey_port, self.gateway_port, self.health_port = free_port(), free_port(), free_port()
        self.env["MANYI_SCORING_HEALTH_PORT"] = str(self.health_port)
        self.env.setdefault("MANYI_PUBLIC_URL", f"http://127.0.0.1:{self.survey_port}")
        self.env["WEB_CONCURRENCY"] = str(workers)
        self.log_dir = log_dir or tempfile.mkdtemp(prefix="manyi-procs-")
        self.procs = {}

    survey_url = property(lambda self: f"http://127.0.0.1:{self.survey_port}")
    gateway_url = property(lambda self: f"http://127.0.0.1:{self.gateway_port}")
    worker_health_url = property(lambda self: f"http://127.0.0.1:{self.health_port}")

    def _spawn(self, name, args):
        with open(os.path.join(self.log_dir, f"{name}.log"), "ab") as log:
            self.procs[name] = subprocess.Popen(args, cwd=ROOT, env=self.env, stdout=log, stderr=log,
                                                start_new_session=True)

    def start_survey(self):
        self._spawn("survey", [str(BIN / "gunicorn"), "-c", "deploy/gunicorn.conf.py", "-b",
                               f"127.0.0.1:{self.survey_port}", "services.survey:create_app()"])

    def start_worker(self):
        self._spawn("scoring", [sys.executable, "-m", "services.scoring"])

    def start_gateway(self):
        self._spawn("gateway", [str(BIN / "gunicorn"), "-c", "deploy/gunicorn.conf.py", "-b",
                                f"127.0.0.1:{self.gateway_port}", "gateway:create_app()"])

    def start(self):
        self.start_survey()
        self.start_worker()
        self.start_gateway()
        self.wait_ready()
        return self

    def wait_ready(self, timeout=60):
        for url in (self.survey_url, self.gateway_url, self.worker_health_url):
            poll(lambda url=url: _status(url + "/readyz") == 200, timeout, 0.2, f"{url}/readyz")

    def stop(self, name, sig=signal.SIGTERM):
        proc = self.procs.get(name)
        if proc and proc.poll() is None:
            os.killpg(proc.pid, sig)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()

    def stop_all(self):
        for name in list(self.procs):
            self.stop(name)

    def log(self, name):
        return Path(self.log_dir, f"{name}.log").read_text(errors="replace")


def _status(url):
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


class Cutoff:
    """A TCP proxy to a real server that a test can cut (close every connection, refuse new ones) and restore.

    Lets a test take RabbitMQ or MongoDB "down" for one process without stopping the shared server.
    """

    def __init__(self, target_port, target_host="127.0.0.1"):
        import threading
        self.target = (target_host, target_port)
        self.port = free_port()
        self.up = threading.Event()
        self._conns, self._lock = [], threading.Lock()
        self._listener = None
        self._threading = threading

    def start(self):
        self.up.set()
        self._listen()
        return self

    def _listen(self):
        self._listener = socket.socket()
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", self.port))
        self._listener.listen(64)
        self._threading.Thread(target=self._accept, args=(self._listener,), daemon=True).start()

    def _accept(self, listener):
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                self._threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src, dst):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()

    def cut(self):
        self.up.clear()
        try:
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept(), freeing the port
        except OSError:
            pass
        self._listener.close()
        with self._lock:
            conns, self._conns = self._conns, []
        for s in conns:
            try:
                s.shutdown(socket.SHUT_RDWR)
                s.close()
            except OSError:
                pass

    def restore(self):
        self.up.set()
        self._listen()

    def close(self):
        if self.up.is_set():
            self.cut()


class RabbitNode:
    """A RabbitMQ node of our own (free port, own data directory), for tests that kill the broker.

    The machine's broker on 5672 is shared and is never stopped; this node is a child we may kill -9 and
    start again on the same port and data (so durable queues and persistent messages survive, as in
    production). rabbitmq-server drops root for the rabbitmq user, hence the open permissions.
    """

    def __init__(self):
        self.port, self.dist_port = free_port(), free_port()
        self.name = f"manyi-{uuid.uuid4().hex[:8]}@localhost"
        self.dir = tempfile.mkdtemp(prefix="manyi-rabbit-")
        Path(self.dir, "plugins").write_text("[].\n")
        Path(self.dir, "rabbitmq.conf").write_text(f"listeners.tcp.local = 127.0.0.1:{self.port}\n"
                                                   "log.console = false\n")
        os.chmod(self.dir, 0o777)
        for name in ("plugins", "rabbitmq.conf"):
            os.chmod(Path(self.dir, name), 0o666)
        self.proc = None

    @property
    def url(self):
        return f"amqp://guest:guest@127.0.0.1:{self.port}/%2F"

    def start(self, timeout=150):
        env = {**os.environ, "RABBITMQ_NODENAME": self.name, "RABBITMQ_NODE_PORT": str(self.port),
               "RABBITMQ_DIST_PORT": str(self.dist_port), "RABBITMQ_CONFIG_FILE": f"{self.dir}/rabbitmq.conf",
               "RABBITMQ_MNESIA_BASE": f"{self.dir}/mnesia", "RABBITMQ_LOG_BASE": f"{self.dir}/log",
               "RABBITMQ_ENABLED_PLUGINS_FILE": f"{self.dir}/plugins", "RABBITMQ_PID_FILE": f"{self.dir}/pid"}
        with open(os.path.join(self.dir, "server.out"), "ab") as out:
            self.proc = subprocess.Popen(["rabbitmq-server"], env=env, stdout=out, stderr=out, start_new_session=True)
        poll(lambda: port_open(self.port) or self.proc.poll() is not None, timeout, 0.2, f"RabbitMQ node {self.name}")
        if self.proc.poll() is not None:
            raise AssertionError(f"RabbitMQ node {self.name} failed: {Path(self.dir, 'server.out').read_text()[-2000:]}")
        return self

    def _processes(self):
        """Pids of this node's processes: `su` starts beam in a session of its own, so they are found by the
        node name in their environment (never by a broad pattern: other nodes may run beside)."""
        mark = f"RABBITMQ_NODENAME={self.name}".encode()
        pids = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    if mark in Path(entry, "environ").read_bytes().split(b"\0"):
                        pids.append(int(entry.name))
                except OSError:
                    pass
        return pids

    def kill(self):
        """kill -9 of the whole node (the script, su, beam and its helpers)."""
        for pid in self._processes():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self.proc is not None:
            self.proc.wait()
        poll(lambda: not port_open(self.port), 30, 0.2, "the killed node's port closed")

    def cleanup(self):
        self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


class DeliveryWorker:
    """The webhook delivery worker (`python -m services.delivery`) as a real process; quick retries for tests."""

    def __init__(self, variables, log_dir=None, **env):
        self.health_port = free_port()
        self.env = {**os.environ, **variables, "MANYI_WEBHOOK_ALLOW_PRIVATE": "1",
                    "MANYI_WEBHOOK_BACKOFF_SECONDS": "0.2", "MANYI_WEBHOOK_MAX_BACKOFF_SECONDS": "1",
                    "MANYI_DELIVERY_HEALTH_PORT": str(self.health_port), **env}
        self.log_dir = log_dir or tempfile.mkdtemp(prefix="manyi-delivery-")
        self.proc = None

    url = property(lambda self: f"http://127.0.0.1:{self.health_port}")

    def start(self, timeout=30):
        with open(os.path.join(self.log_dir, "delivery.log"), "ab") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", "services.delivery"], cwd=ROOT, env=self.env,
                                         stdout=log, stderr=log, start_new_session=True)
        poll(lambda: _status(self.url + "/readyz") == 200, timeout, 0.1, "the delivery worker's /readyz")
        return self

    def stop(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()

    def log(self):
        return Path(self.log_dir, "delivery.log").read_text(errors="replace")
