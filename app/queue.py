"""The one place that enqueues. Jobs are buffered on the session and sent only after commit."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import lru_cache

import anyio
from celery import Celery
from sqlalchemy.ext.asyncio import AsyncSession

from app.broker import PROCESS_VIDEO_TASK, make_celery
from app.request_id import current_request_id
from app.settings import get_settings

log = logging.getLogger(__name__)
_PENDING = "reelforge.pending_jobs"


@dataclass(frozen=True)
class Job:
    task_name: str
    task_id: str
    args: tuple[int | str, ...]
    request_id: str | None = field(default_factory=current_request_id)


@lru_cache
def producer() -> Celery:
    return make_celery(get_settings(), name="reelforge-api")


def enqueue_after_commit(session: AsyncSession, job: Job) -> None:
    session.info.setdefault(_PENDING, []).append(job)


def enqueue_video_processing(session: AsyncSession, video_id: int, task_id: str) -> None:
    enqueue_after_commit(session, Job(PROCESS_VIDEO_TASK, task_id, (video_id,)))


def send_now(job: Job) -> None:
    """Blocking publish with a bounded retry; call from a thread or a worker process."""
    producer().send_task(
        job.task_name,
        args=list(job.args),
        task_id=job.task_id,
        headers={"request_id": job.request_id} if job.request_id else None,
        retry=True,
        retry_policy={"max_retries": 2, "interval_start": 0.1, "interval_step": 0.2},
    )


async def dispatch_pending(session: AsyncSession) -> None:
    """Send what the committed transaction asked for. A job that cannot be sent stays `queued`
    in the database (durable) and is picked up again by the worker's reconciler."""
    jobs: list[Job] = session.info.pop(_PENDING, [])
    for job in jobs:
        try:
            await anyio.to_thread.run_sync(send_now, job)
        except Exception:  # the job is durable in the DB; the reconciler re-sends it
            log.exception("enqueue failed for %s %s; left queued", job.task_name, job.args)
