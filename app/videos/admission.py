"""Admission control for uploads: refuse early (503/507 with Retry-After) instead of collapsing.

Checked before the body is read, from values cached for ADMISSION_CACHE_SECONDS per process, so
a burst of uploads costs one small indexed query per second, never a scan.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import anyio
from prometheus_client import Counter
from sqlalchemy.ext.asyncio import AsyncEngine

from app.errors import DomainError, ServiceUnavailable
from core.jobs.backlog import Backlog, read_backlog
from core.settings import Settings

RETRY_AFTER_SECONDS = 30
# Here, not in app/metrics.py: that module serves /metrics through app.deps, which needs this one.
ADMISSION_REJECTED = Counter(
    "reelforge_admission_rejected_total", "Uploads refused by admission control", ["reason"]
)


class InsufficientStorage(DomainError):
    status_code = 507


@dataclass(frozen=True)
class Snapshot:
    backlog: Backlog
    free_bytes: int | None


class Admission:
    """One reading at a time per process: while it is refreshed, other requests use the last
    one. (Without that, every upload arriving during the refresh ran its own backlog query on
    its own pooled connection — at 100 uploading users a stampede once a second, ~7 % of the
    API's CPU and overflow connections opened and closed.)"""

    def __init__(self, settings: Settings, engine: AsyncEngine, disk: Path | None) -> None:
        self.settings, self.engine, self.disk = settings, engine, disk
        self._snapshot: Snapshot | None = None
        self._taken_at = 0.0
        self._refreshing = anyio.Lock()

    @property
    def enabled(self) -> bool:
        """No limit configured: nothing to read."""
        s = self.settings
        disk = bool(s.min_free_disk_bytes and self.disk is not None)
        return disk or bool(s.backlog_max_queued or s.backlog_max_oldest_seconds)

    async def _take(self) -> Snapshot:
        free = None
        if self.disk is not None:
            free = (await anyio.to_thread.run_sync(shutil.disk_usage, self.disk)).free
        return Snapshot(await read_backlog(self.engine), free)

    def _fresh(self) -> bool:
        age = time.monotonic() - self._taken_at
        return self._snapshot is not None and age <= self.settings.admission_cache_seconds

    async def snapshot(self) -> Snapshot:
        if self._fresh():
            assert self._snapshot is not None
            return self._snapshot
        if self._snapshot is not None and self._refreshing.locked():
            return self._snapshot  # another request is reading; the last reading will do
        async with self._refreshing:
            if not self._fresh():  # the first reading: everybody waits for the one query
                self._snapshot, self._taken_at = await self._take(), time.monotonic()
        assert self._snapshot is not None
        return self._snapshot

    async def check(self) -> None:
        if not self.enabled:
            return
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
