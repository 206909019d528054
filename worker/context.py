"""Per-process resources for Celery children, created after fork and never shared across it."""

from __future__ import annotations

import os
from dataclasses import dataclass

from app.db import make_sync_sessions
from app.settings import Settings, get_settings
from app.storage import Storage, make_storage
from worker.jobs import JobStore


@dataclass(frozen=True)
class WorkerContext:
    pid: int
    settings: Settings
    jobs: JobStore
    storage: Storage


_context: WorkerContext | None = None


def get_context() -> WorkerContext:
    global _context
    if _context is None or _context.pid != os.getpid():
        settings = get_settings()
        _context = WorkerContext(
            pid=os.getpid(),
            settings=settings,
            jobs=JobStore(make_sync_sessions(settings), settings.lease_seconds),
            storage=make_storage(settings),
        )
    return _context
