"""Thin tasks: take an ID, run the pipeline, let Celery schedule the retry it asks for."""

from __future__ import annotations

import logging
import time

from celery import Task

from core.jobs.broker import PROCESS_VIDEO_TASK
from worker import metrics
from worker.celery_app import task
from worker.context import get_context
from worker.pipeline import process_video as run_pipeline

log = logging.getLogger(__name__)


@task(name=PROCESS_VIDEO_TASK, bind=True, max_retries=None)
def process_video(self: Task, video_id: int) -> str:
    started = time.monotonic()
    outcome = run_pipeline(int(video_id), get_context())
    metrics.TASK_DURATION.labels(outcome.kind).observe(time.monotonic() - started)
    metrics.OUTCOMES.labels(outcome.kind, outcome.reason_class).inc()
    if outcome.realtime_factor is not None:
        metrics.REALTIME_FACTOR.observe(outcome.realtime_factor)
    # The job the message claimed is the one named; the message's own id is kept apart.
    job = outcome.video_id if outcome.video_id is not None else "-"
    log.info("video %s: %s %s (message for video %s)", job, outcome.kind, outcome.detail,
             video_id)  # fmt: skip
    if outcome.retry_in is not None:
        raise self.retry(countdown=outcome.retry_in)
    return outcome.kind
