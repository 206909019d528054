"""gunicorn settings for the API tier: `gunicorn -c python:app.gunicorn_conf app.main:app`.

Every value can be overridden from the environment; docs/deploy.md explains the sizing.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from typing import Any

# Must be set before prometheus_client is first imported (here or in the forked workers).
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="reelforge-api-metrics-")


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    return int(value) if value.strip() else default


bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
worker_class = "uvicorn_worker.UvicornWorker"
# Async workers: one per core is enough (they do not block on I/O); at least 2 so one slow
# process never takes the tier down.
workers = _int("GUNICORN_WORKERS", max(2, os.cpu_count() or 1))
# No recycling by default: a worker that exits after N requests closes its idle keep-alive
# connections, and a request nginx has just written to one of them dies with a reset (502; POST
# and PATCH are never retried; docs/performance.md has the figures). Set it (with the jitter)
# only for a leak you have seen, knowing each recycle costs a few 502s.
max_requests = _int("GUNICORN_MAX_REQUESTS", 0)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 0)
# Silence allowed before the arbiter kills a worker; async workers keep pinging while they
# stream long uploads, so this only catches a truly stuck process.
timeout = _int("GUNICORN_TIMEOUT", 60)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
# Longer than nginx's upstream keepalive_timeout (60 s), so nginx always closes first.
keepalive = _int("GUNICORN_KEEPALIVE", 75)
# Trust X-Forwarded-For only from the proxy in front of us.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# The control socket (gunicorn ≥ 24) is a fixed path per user; off, so hosts can run several.
control_socket_disable = True
accesslog = None  # nginx writes the access log (with the request id)
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()


def on_starting(_server: Any) -> None:
    """A clean multi-process metrics folder for this run of the arbiter."""
    folder = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder, exist_ok=True)


def child_exit(_server: Any, worker: Any) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
