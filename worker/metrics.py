"""Worker metrics, aggregated across prefork children through PROMETHEUS_MULTIPROC_DIR and served
by the worker's main process on WORKER_METRICS_PORT."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager

from prometheus_client import CollectorRegistry, Counter, Histogram, multiprocess, start_http_server

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


def serve(port: int) -> None:
    if port <= 0:
        return
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
    start_http_server(
        port, addr=os.environ.get("WORKER_METRICS_ADDR", "127.0.0.1"), registry=registry
    )
    log.info("worker metrics on :%d/metrics", port)


def child_exited(pid: int) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(pid)
