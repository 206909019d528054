"""Re-sends jobs the broker lost or a dead worker left behind. Runs as a thread in each worker's
main process; several replicas are safe (SKIP LOCKED, and the claim is a compare-and-set)."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from app.broker import PROCESS_VIDEO_TASK
from app.db import make_sync_sessions
from app.models import utcnow
from app.queue import Job, send_now
from app.settings import Settings
from worker.jobs import JobStore

log = logging.getLogger(__name__)
_stop = threading.Event()


def reconcile_once(jobs: JobStore, settings: Settings) -> int:
    cutoff = utcnow() - timedelta(seconds=settings.resend_after_seconds)
    stale = jobs.take_stale(cutoff)
    for video_id, task_id in stale:
        send_now(Job(PROCESS_VIDEO_TASK, task_id, (video_id,)))
    if stale:
        log.info("reconciler re-sent %d job(s): %s", len(stale), [v for v, _ in stale])
    return len(stale)


def _loop(settings: Settings) -> None:
    jobs = JobStore(make_sync_sessions(settings), settings.lease_seconds)
    while not _stop.wait(settings.reconcile_interval_seconds):
        try:
            reconcile_once(jobs, settings)
        except Exception:  # DB or broker down: try again next round
            log.exception("reconciler round failed")


def start_reconciler(settings: Settings) -> None:
    _stop.clear()
    threading.Thread(target=_loop, args=(settings,), name="reconciler", daemon=True).start()


def stop_reconciler() -> None:
    _stop.set()
