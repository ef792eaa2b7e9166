"""gunicorn settings of both web processes (DESIGN §2: web processes run under gunicorn)."""
import multiprocessing
import os

workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2))
worker_class = "sync"
timeout = 30
graceful_timeout = 10
keepalive = 5
accesslog = None
errorlog = "-"
loglevel = "info"
# Two gunicorn masters run side by side (survey, gateway); one shared control socket would collide.
control_socket_disable = True
