"""`/health` answers from memory; `/ready` checks what the API tier itself uses (database, broker,
storage), concurrently, each bounded. FFmpeg belongs to the compute tier: its health is
`python -m worker.health`, not this route (the API image has no FFmpeg)."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

import anyio
import redis.asyncio as aioredis
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import BaseModel
from sqlalchemy import text

from app.deps import DatabaseDep, SettingsDep, StorageDep
from app.ratelimit import exempt
from core.db import Database
from core.settings import Settings
from core.storage import Storage

log = logging.getLogger(__name__)
router = APIRouter(tags=["health"])
CHECK_TIMEOUT_SECONDS = 1.0


class CheckOut(BaseModel):
    status: Literal["ok", "error"]
    error: str | None = None


class ReadyOut(BaseModel):
    status: Literal["ok", "unavailable"]
    checks: dict[str, CheckOut]


class HealthOut(BaseModel):
    status: Literal["ok"]


@router.get("/", response_class=PlainTextResponse, include_in_schema=False)
@exempt
async def root(request: Request) -> str:
    return "Healthcheck OK - reelforge"


@router.get("/health", response_model=HealthOut)
@exempt
async def health(request: Request) -> dict[str, str]:
    return {"status": "ok"}


@dataclass(frozen=True)
class _Deps:
    settings: Settings
    database: Database
    storage: Storage


async def _check_database(deps: _Deps) -> None:
    async with deps.database.engine.connect() as conn:
        await conn.execute(text("SELECT 1"))


async def _check_broker(deps: _Deps) -> None:
    url = deps.settings.celery_broker_url
    if url.startswith("filesystem"):
        folder = deps.settings.resolved_broker_dir / "queue"
        if not await anyio.to_thread.run_sync(os.access, folder, os.W_OK):
            raise RuntimeError(f"broker folder {folder} is not writable")
        return
    client = aioredis.from_url(url, socket_timeout=CHECK_TIMEOUT_SECONDS)
    try:
        await client.ping()
    finally:
        await client.aclose()


async def _check_storage(deps: _Deps) -> None:
    await anyio.to_thread.run_sync(deps.storage.check_writable_sync)


CHECKS: dict[str, Callable[[_Deps], Awaitable[None]]] = {
    "database": _check_database,
    "broker": _check_broker,
    "storage": _check_storage,
}


async def _run(check: Callable[[_Deps], Awaitable[None]], deps: _Deps) -> dict[str, str]:
    try:
        await asyncio.wait_for(check(deps), CHECK_TIMEOUT_SECONDS)
        return {"status": "ok"}
    except TimeoutError:
        return {"status": "error", "error": f"timed out after {CHECK_TIMEOUT_SECONDS:g} s"}
    except Exception as exc:  # the verdict is public; the reason goes to the log only
        log.warning("readiness check %s failed: %s: %s", check.__name__, type(exc).__name__, exc)
        return {"status": "error", "error": "unavailable"}


@router.get(
    "/ready",
    response_model=ReadyOut,
    responses={503: {"model": ReadyOut, "description": "At least one dependency is unusable"}},
)
@exempt
async def ready(
    request: Request, settings: SettingsDep, database: DatabaseDep, storage: StorageDep
) -> JSONResponse:
    deps = _Deps(settings, database, storage)
    results = await asyncio.gather(*(_run(check, deps) for check in CHECKS.values()))
    checks = dict(zip(CHECKS, results, strict=True))
    ok = all(r["status"] == "ok" for r in results)
    body = {"status": "ok" if ok else "unavailable", "checks": checks}
    return JSONResponse(body, status_code=200 if ok else 503)
