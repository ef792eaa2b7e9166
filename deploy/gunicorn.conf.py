"""gunicorn settings of both web processes (DESIGN §2: web processes run under gunicorn)."""
import multiprocessing
import os

workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2))
# Requests mostly wait on a journaled write and a broker confirm: threads keep the cores busy meanwhile.
# gthread, with each request's head and body read by the event loop before a thread sees it (slow clients
# cannot hold threads; see shared/http_worker.py).
worker_class = "shared.http_worker.BufferingWorker"
threads = int(os.environ.get("GUNICORN_THREADS", 4))
timeout = 30
graceful_timeout = 10
keepalive = 5
accesslog = None
errorlog = "-"
loglevel = "info"
# Two gunicorn masters run side by side (survey, gateway); one shared control socket would collide.
control_socket_disable = True
