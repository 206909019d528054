"""Prometheus metrics for the API — the counters, the request middleware and the `/metrics`
route — correct under gunicorn's multi-process mode.

With PROMETHEUS_MULTIPROC_DIR set (the gunicorn config sets it) every worker process writes its
samples to that folder and `/metrics` aggregates them. Backlog gauges are read from the jobs
table at scrape time, so they are right whichever process answers.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable

import anyio
from fastapi import APIRouter, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.deps import DatabaseDep
from app.ratelimit import exempt
from core.jobs.backlog import Backlog, read_backlog

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)

HTTP_REQUESTS = Counter(
    "reelforge_http_requests_total", "HTTP requests", ["method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "reelforge_http_request_duration_seconds",
    "HTTP request latency",
    ["method", "route"],
    buckets=LATENCY_BUCKETS,
)
UPLOAD_BYTES = Counter("reelforge_upload_bytes_total", "Bytes of accepted uploads")
UPLOAD_DURATION = Histogram(
    "reelforge_upload_duration_seconds",
    "Time to receive and store an upload",
    buckets=LATENCY_BUCKETS,
)
JOBS_CREATED = Counter("reelforge_jobs_created_total", "Video jobs created")


class MetricsMiddleware:
    """Count and time every request by route template (never the raw path: bounded labels)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            matched = scope.get("route")
            route = getattr(matched, "path_format", None) or getattr(matched, "path", "unmatched")
            if route != "/metrics":
                HTTP_REQUESTS.labels(scope["method"], route, str(status)).inc()
                HTTP_LATENCY.labels(scope["method"], route).observe(time.perf_counter() - started)


class _BacklogCollector(Collector):
    def __init__(self, backlog: Backlog) -> None:
        self.backlog = backlog

    def collect(self) -> Iterable[Metric]:
        b = self.backlog
        yield GaugeMetricFamily(
            "reelforge_jobs_queued", "Jobs waiting for a worker", value=b.queued
        )
        yield GaugeMetricFamily(
            "reelforge_jobs_processing", "Jobs being processed", value=b.processing
        )
        yield GaugeMetricFamily(
            "reelforge_oldest_queued_job_age_seconds",
            "Age of the oldest queued job (autoscale workers on this)",
            value=b.oldest_queued_age,
        )


async def render(engine: AsyncEngine) -> tuple[bytes, str]:
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
    else:
        from prometheus_client import REGISTRY

        registry = REGISTRY  # single process: the default registry already holds everything
    output = await anyio.to_thread.run_sync(generate_latest, registry)  # reads the sample files
    backlog_registry = CollectorRegistry()
    backlog_registry.register(_BacklogCollector(await read_backlog(engine)))
    return output + generate_latest(backlog_registry), CONTENT_TYPE_LATEST


router = APIRouter(tags=["health"])


@router.get("/metrics", include_in_schema=False)
@exempt
async def metrics(request: Request, database: DatabaseDep) -> Response:
    """Prometheus scrape target. nginx does not expose it; scrape the API port directly."""
    body, content_type = await render(database.engine)
    return Response(body, media_type=content_type)
