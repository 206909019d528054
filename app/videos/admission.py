"""Admission control for uploads: refuse early (503/507 with Retry-After) instead of collapsing.

Checked before the body is read, from values cached for ADMISSION_CACHE_SECONDS per process, so
a burst of uploads costs one small indexed query per second, never a scan.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import anyio
from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncEngine

from app.errors import DomainError, ServiceUnavailable
from app.metrics import ADMISSION_REJECTED
from core.jobs.backlog import Backlog, read_backlog
from core.settings import Settings

RETRY_AFTER_SECONDS = 30


class InsufficientStorage(DomainError):
    status_code = 507


@dataclass(frozen=True)
class Snapshot:
    backlog: Backlog
    free_bytes: int | None


class Admission:
    def __init__(self, settings: Settings, engine: AsyncEngine, disk: Path | None) -> None:
        self.settings, self.engine, self.disk = settings, engine, disk
        self._snapshot: Snapshot | None = None
        self._taken_at = 0.0

    async def _take(self) -> Snapshot:
        free = None
        if self.disk is not None:
            free = (await anyio.to_thread.run_sync(shutil.disk_usage, self.disk)).free
        return Snapshot(await read_backlog(self.engine), free)

    async def snapshot(self) -> Snapshot:
        now = time.monotonic()
        if self._snapshot is None or now - self._taken_at > self.settings.admission_cache_seconds:
            self._snapshot, self._taken_at = await self._take(), now
        return self._snapshot

    async def check(self) -> None:
        s, snap = self.settings, await self.snapshot()
        retry = {"Retry-After": str(RETRY_AFTER_SECONDS)}
        free = snap.free_bytes
        if s.min_free_disk_bytes and free is not None and free < s.min_free_disk_bytes:
            ADMISSION_REJECTED.labels("disk").inc()
            raise InsufficientStorage(
                "Not enough storage space to accept uploads right now; retry later", retry
            )
        if s.backlog_max_queued and snap.backlog.queued >= s.backlog_max_queued:
            ADMISSION_REJECTED.labels("backlog").inc()
            raise ServiceUnavailable(
                f"Processing backlog is full ({snap.backlog.queued} videos waiting); retry later",
                retry,
            )
        if (
            s.backlog_max_oldest_seconds
            and snap.backlog.oldest_queued_age > s.backlog_max_oldest_seconds
        ):
            ADMISSION_REJECTED.labels("backlog_age").inc()
            raise ServiceUnavailable(
                f"Processing is {snap.backlog.oldest_queued_age:.0f} s behind; retry later", retry
            )


async def get_admission(request: Request) -> Admission:
    admission: Admission = request.app.state.admission
    return admission


AdmissionDep = Annotated[Admission, Depends(get_admission)]
