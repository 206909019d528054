"""One reconciler round: re-send the jobs the broker lost (queued too long, never claimed) and
those a dead worker abandoned (processing with an expired lease). The claim is a compare-and-set,
so a message sent twice still runs the job once.

After the worker reconnects to its broker, `resend_after_reconnect` does not wait for those
jobs to look stale: if the broker holds fewer messages than there are queued jobs (a Redis that
restarted empty), every job queued before the reconnect is sent again at once."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from core.jobs.dispatch import JobPublisher, process_video_message
from core.jobs.store import STALE_BATCH, JobStore
from core.models import utcnow
from core.settings import Settings

log = logging.getLogger(__name__)


def resend_stale_jobs(jobs: JobStore, publisher: JobPublisher, settings: Settings) -> int:
    cutoff = utcnow() - timedelta(seconds=settings.resend_after_seconds)
    stale = jobs.take_stale(cutoff)
    for video_id, task_id in stale:
        publisher.send(process_video_message(video_id, task_id))
    if stale:
        log.info("reconciler re-sent %d job(s): %s", len(stale), [v for v, _ in stale])
    return len(stale)


def resend_after_reconnect(
    jobs: JobStore, publisher: JobPublisher, settings: Settings, reconnected_at: datetime
) -> int:
    waiting = publisher.queue_depth(settings.celery_queue)
    queued = jobs.queued_count()
    if waiting is not None and waiting >= queued:
        return 0  # the broker kept its messages
    sent = 0
    while True:  # a batch at a time, each marked sent (enqueued_at) so none goes twice
        batch = jobs.take_stale(reconnected_at, only_queued=True)
        for video_id, task_id in batch:
            publisher.send(process_video_message(video_id, task_id))
        sent += len(batch)
        if len(batch) < STALE_BATCH:
            break
    log.info("broker reconnected holding %s message(s) for %d queued job(s): re-sent %d",
             waiting, queued, sent)  # fmt: skip
    return sent
