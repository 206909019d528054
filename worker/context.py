"""Per-process resources for Celery children (and the reconciler), created after fork and never
shared across it: settings, the job store, storage."""

from __future__ import annotations

import os
from dataclasses import dataclass

from core.db import make_sync_sessions
from core.jobs.dispatch import JobPublisher
from core.jobs.events import make_sink
from core.jobs.scheduling import SchedulingPolicy
from core.jobs.store import JobStore
from core.settings import Settings, get_settings
from core.storage import Storage, make_storage
from core.webhooks.outbox import Outbox
from worker.metrics import UNFAIR_PICKS


@dataclass(frozen=True)
class WorkerContext:
    pid: int
    settings: Settings
    jobs: JobStore
    storage: Storage


def make_context(settings: Settings) -> WorkerContext:
    return WorkerContext(
        pid=os.getpid(),
        settings=settings,
        jobs=JobStore(
            make_sync_sessions(settings),
            settings.lease_seconds,
            SchedulingPolicy.from_settings(settings),
            make_sink(settings),
            Outbox(settings, JobPublisher(settings, name="reelforge-worker-outbox")),
            on_unfair_pick=UNFAIR_PICKS.inc,
        ),
        storage=make_storage(settings),
    )


_context: WorkerContext | None = None


def get_context() -> WorkerContext:
    global _context
    if _context is None or _context.pid != os.getpid():
        _context = make_context(get_settings())
    return _context
