"""One reconciler round: re-send the jobs the broker lost (queued too long, never claimed) and
those a dead worker abandoned (processing with an expired lease). The claim is a compare-and-set,
so a message sent twice still runs the job once."""

from __future__ import annotations

import logging
from datetime import timedelta

from core.jobs.dispatch import JobPublisher, process_video_message
from core.jobs.store import JobStore
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
