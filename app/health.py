"""`/health` answers from memory; `/ready` checks every dependency, concurrently, each bounded."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Awaitable, Callable

import anyio
import redis.asyncio as aioredis
from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from sqlalchemy import text

from app.metrics import render as render_metrics
from app.ratelimit import exempt
from app.settings import Settings, get_settings

router = APIRouter(tags=["health"])
CHECK_TIMEOUT_SECONDS = 1.0


@router.get("/", response_class=PlainTextResponse, include_in_schema=False)
@exempt
async def root(request: Request) -> str:
    return "Healthcheck OK - reelforge"


@router.get("/health")
@exempt
async def health(request: Request) -> dict[str, str]:
    return {"status": "ok"}


async def _check_database(request: Request, _settings: Settings) -> None:
    async with request.app.state.database.engine.connect() as conn:
        await conn.execute(text("SELECT 1"))


async def _check_broker(_request: Request, settings: Settings) -> None:
    url = settings.celery_broker_url
    if url.startswith("filesystem"):
        folder = settings.resolved_broker_dir / "queue"
        if not await anyio.to_thread.run_sync(os.access, folder, os.W_OK):
            raise RuntimeError(f"broker folder {folder} is not writable")
        return
    client = aioredis.from_url(url, socket_timeout=CHECK_TIMEOUT_SECONDS)
    try:
        await client.ping()
    finally:
        await client.aclose()


async def _check_storage(request: Request, _settings: Settings) -> None:
    await anyio.to_thread.run_sync(request.app.state.storage.check_writable_sync)


async def _check_ffmpeg(_request: Request, settings: Settings) -> None:
    for binary in (settings.ffmpeg_binary, settings.ffprobe_binary):
        if await anyio.to_thread.run_sync(shutil.which, binary) is None:
            raise RuntimeError(f"{binary} not found on PATH")


CHECKS: dict[str, Callable[[Request, Settings], Awaitable[None]]] = {
    "database": _check_database,
    "broker": _check_broker,
    "storage": _check_storage,
    "ffmpeg": _check_ffmpeg,
}


async def _run(
    check: Callable[[Request, Settings], Awaitable[None]], request: Request
) -> dict[str, str]:
    try:
        await asyncio.wait_for(check(request, get_settings()), CHECK_TIMEOUT_SECONDS)
        return {"status": "ok"}
    except TimeoutError:
        return {"status": "error", "error": f"timed out after {CHECK_TIMEOUT_SECONDS:g} s"}
    except Exception as exc:  # reported in the body; readiness is exactly this verdict
        return {"status": "error", "error": f"{type(exc).__name__}: {exc}"[:300]}


@router.get("/ready", responses={503: {"description": "At least one dependency is unusable"}})
@exempt
async def ready(request: Request) -> JSONResponse:
    results = await asyncio.gather(*(_run(check, request) for check in CHECKS.values()))
    checks = dict(zip(CHECKS, results, strict=True))
    ok = all(r["status"] == "ok" for r in results)
    body = {"status": "ok" if ok else "unavailable", "checks": checks}
    return JSONResponse(body, status_code=200 if ok else 503)


@router.get("/metrics", include_in_schema=False)
@exempt
async def metrics(request: Request) -> Response:
    """Prometheus scrape target. nginx does not expose it; scrape the API port directly."""
    body, content_type = await render_metrics(request.app.state.database.engine)
    return Response(body, media_type=content_type)
