"""The compute tier's health check: `python -m worker.health` exits 0 only when this machine can
do a job — the worker process answers on its metrics port, the database and the broker are
reachable, FFmpeg and ffprobe are installed. One line per check on stdout; the image's
HEALTHCHECK runs it (an orchestrator replaces a worker that cannot reach its dependencies)."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import sys
import urllib.request
from collections.abc import Callable
from pathlib import Path

from kombu.connection import Connection
from sqlalchemy import text

from core.db import Database
from core.settings import Settings, get_settings

TIMEOUT_SECONDS = 3.0


def check_process(settings: Settings) -> None:
    """The Celery main process serves /metrics once it is ready (worker/metrics.py); the
    webhooks deliverer has no port: a Celery worker process must be running in the container."""
    if settings.worker_role == "webhooks":
        for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
            with contextlib.suppress(OSError):
                if b"celery" in cmdline.read_bytes() and b"webhooks" in cmdline.read_bytes():
                    return
        raise RuntimeError("no Celery webhooks worker process is running")
    if not settings.worker_metrics_port:
        return
    url = f"http://127.0.0.1:{settings.worker_metrics_port}/metrics"
    with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response:
        if response.status != 200:
            raise RuntimeError(f"{url} answered {response.status}")


def check_database(settings: Settings) -> None:
    async def select_one() -> None:
        database = Database.from_settings(settings)
        try:
            async with database.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        finally:
            await database.engine.dispose()

    asyncio.run(asyncio.wait_for(select_one(), TIMEOUT_SECONDS))


def check_broker(settings: Settings) -> None:
    with Connection(settings.celery_broker_url, connect_timeout=TIMEOUT_SECONDS) as conn:
        conn.ensure_connection(max_retries=1, timeout=TIMEOUT_SECONDS)


def check_ffmpeg(settings: Settings) -> None:
    for binary in (settings.ffmpeg_binary, settings.ffprobe_binary):
        if shutil.which(binary) is None:
            raise RuntimeError(f"{binary} not found on PATH")


# What the worker's own GET /ready runs (worker/metrics.py), and this command on top of the process.
READY_CHECKS: dict[str, Callable[[Settings], None]] = {
    "database": check_database,
    "broker": check_broker,
    "ffmpeg": check_ffmpeg,
}
CHECKS: dict[str, Callable[[Settings], None]] = {"process": check_process, **READY_CHECKS}


def main() -> int:
    settings = get_settings()
    failed = 0
    for name, check in CHECKS.items():
        try:
            check(settings)
            print(f"{name}: ok")
        except Exception as exc:  # a health check reports every failure, it never raises
            failed += 1
            print(f"{name}: error: {type(exc).__name__}: {exc}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
