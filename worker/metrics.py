"""Worker metrics, aggregated across prefork children through PROMETHEUS_MULTIPROC_DIR and served
by the worker's main process on WORKER_METRICS_PORT — with `/ready` beside them: 200 when the
database and the broker are reachable and FFmpeg is installed (worker/health.py's checks), 503
with the failed checks named otherwise."""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CollectorRegistry, Counter, Histogram, make_wsgi_app, multiprocess

from core.settings import Settings

log = logging.getLogger(__name__)

TASK_DURATION = Histogram(
    "reelforge_worker_task_duration_seconds",
    "Wall time of one videos.process run",
    ["outcome"],
    buckets=(0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600),
)
REALTIME_FACTOR = Histogram(
    "reelforge_worker_ffmpeg_realtime_factor",
    "Seconds of output video encoded per second of wall time",
    buckets=(0.25, 0.5, 1, 2, 3, 4, 6, 8, 12, 16, 24, 32),
)
PHASE_SECONDS = Counter(
    "reelforge_worker_phase_seconds",
    "Wall time spent in each step of a job (where a job's time goes)",
    ["phase"],
)
UNFAIR_PICKS = Counter(
    "reelforge_worker_unfair_picks_total",
    "Fair claims picked without the claim lock (its holder froze past CLAIM_LOCK_WAIT_MS)",
)
OUTCOMES = Counter(
    "reelforge_worker_outcomes_total", "Task outcomes by reason", ["outcome", "reason"]
)


@contextmanager
def phase(name: str) -> Iterator[None]:
    started = time.monotonic()
    try:
        yield
    finally:
        PHASE_SECONDS.labels(name).inc(time.monotonic() - started)


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
        pass


def ready_body(settings: Settings) -> tuple[bool, bytes]:
    from worker.health import READY_CHECKS

    checks: dict[str, dict[str, str]] = {}
    for name, check in READY_CHECKS.items():
        try:
            check(settings)
            checks[name] = {"status": "ok"}
        except Exception as exc:  # the verdict is public; the reason goes to the log only
            log.warning("worker readiness check %s failed: %s: %s", name, type(exc).__name__, exc)
            checks[name] = {"status": "error", "error": "unavailable"}
    ok = all(c["status"] == "ok" for c in checks.values())
    body = {"status": "ok" if ok else "unavailable", "checks": checks}
    return ok, json.dumps(body).encode()


def _app(registry: CollectorRegistry, settings: Settings) -> Callable[..., Iterable[bytes]]:
    metrics_app = make_wsgi_app(registry)

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/ready":
            ok, body = ready_body(settings)
            status = "200 OK" if ok else "503 Service Unavailable"
            start_response(status, [("Content-Type", "application/json")])
            return [body]
        served: Iterable[bytes] = metrics_app(environ, start_response)
        return served

    return app


def serve(port: int, settings: Settings) -> None:
    if port <= 0:
        return
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
    addr = os.environ.get("WORKER_METRICS_ADDR", "127.0.0.1")
    httpd = make_server(addr, port, _app(registry, settings), _ThreadingServer, _QuietHandler)
    threading.Thread(target=httpd.serve_forever, name="worker-metrics", daemon=True).start()
    log.info("worker metrics on :%d/metrics, readiness on :%d/ready", port, port)


def child_exited(pid: int) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(pid)
