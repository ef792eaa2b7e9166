"""gunicorn settings of both web processes (DESIGN §2: web processes run under gunicorn)."""
import multiprocessing
import os
import shutil
import tempfile

workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2))
# Requests mostly wait on a journaled write and a broker confirm: threads keep the cores busy meanwhile.
# gthread, with each request's head and body read by the event loop before a thread sees it (slow clients
# cannot hold threads; see shared/http_worker.py).
worker_class = "shared.http_worker.BufferingWorker"
threads = int(os.environ.get("GUNICORN_THREADS", 4))
timeout = 30
graceful_timeout = 10
keepalive = 5
accesslog = None  # the app writes its own access log lines (JSON, with the request id): shared/web.py
errorlog = "-"
loglevel = "info"
# Two gunicorn masters run side by side (survey, gateway); one shared control socket would collide.
control_socket_disable = True

# Prometheus in a pre-forking server: every worker writes its counters to files in one directory, which
# `/metrics` sums. Each master gets a fresh directory of its own unless the deployment names one (it must
# then be emptied before each start, as the prometheus_client documentation says).
_OWN_METRICS_DIR = None
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    _OWN_METRICS_DIR = tempfile.mkdtemp(prefix="manyi-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = _OWN_METRICS_DIR


def _process_name(server):
    import sys
    app = server.cfg.wsgi_app or " ".join(sys.argv)
    return "gateway" if "gateway" in app else "survey"


def on_starting(server):
    from shared import observe
    observe.setup_logging(_process_name(server))


def post_fork(server, worker):
    from shared import observe
    observe.setup_logging(_process_name(server))


def child_exit(server, worker):
    from prometheus_client import multiprocess
    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    if _OWN_METRICS_DIR:
        shutil.rmtree(_OWN_METRICS_DIR, ignore_errors=True)
