"""How a run ended (`Outcome`, for the task, its metrics and logs) and the retry policy of
core/jobs/retries.py: each failure is charged to the job's input or to the service, and either
retried at the job's own backoff time or failed with a reason that says which it was."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from core.jobs.retries import human_duration, interruption_deadline, retry_delay
from core.jobs.store import Claim, JobStore
from core.models import as_utc, utcnow
from core.settings import Settings

log = logging.getLogger(__name__)
MISSING_ORIGINAL = "The original upload is missing"


@dataclass(frozen=True)
class Outcome:
    kind: str  # processed | failed | cancelled | skipped | retry
    reason_class: str  # a bounded label for metrics
    detail: str = ""
    retry_in: float | None = None  # the message runs again after this long
    realtime_factor: float | None = None
    video_id: int | None = None  # the job the message claimed (not always the message's own)


def gave_up(attempts: int, reason: str | None) -> str:
    return f"Gave up after {attempts} attempts: {reason}"


def lost_workers(losses: int) -> str:
    return (
        f"Gave up: the worker processing this video stopped {losses} times "
        "(the service was interrupted each time, or this video makes the worker crash)"
    )


def fail_permanently(claim: Claim, jobs: JobStore, reason: str, reason_class: str) -> Outcome:
    jobs.fail(claim, reason)
    return Outcome("failed", reason_class, reason, video_id=claim.video_id)


def input_failed(claim: Claim, jobs: JobStore, settings: Settings, reason: str) -> Outcome:
    """The job's own input failed in a way a second try might not repeat (FFmpeg crashed)."""
    failures = claim.failures + 1
    log.warning("video %s attempt %s: failure %s of %s: %s", claim.video_id, claim.attempt,
                failures, settings.max_attempts, reason)  # fmt: skip
    if failures >= settings.max_attempts:
        return fail_permanently(claim, jobs, gave_up(failures, reason), "gave_up")
    return _retry_later(claim, jobs, settings, reason, claim.failures, interrupted=False)


def interrupted(claim: Claim, jobs: JobStore, settings: Settings, reason: str) -> Outcome:
    """The service failed the job (storage, database, broker): retried until the deadline."""
    now = utcnow()
    since = as_utc(claim.interrupted_since) if claim.interrupted_since else now
    log.warning("video %s attempt %s: interruption %s: %s", claim.video_id, claim.attempt,
                claim.interruptions + 1, reason)  # fmt: skip
    if now >= interruption_deadline(settings, since):
        wait = human_duration(settings.retry_deadline_seconds)
        message = f"The service could not process this video for {wait}: {reason}"
        return fail_permanently(claim, jobs, message, "service_deadline")
    return _retry_later(claim, jobs, settings, reason, claim.interruptions, interrupted=True)


def _retry_later(
    claim: Claim, jobs: JobStore, settings: Settings, reason: str, so_far: int, interrupted: bool
) -> Outcome:
    delay = retry_delay(settings, so_far)
    jobs.release_for_retry(claim, reason, utcnow() + timedelta(seconds=delay), interrupted)
    kind = "interrupted" if interrupted else "transient"
    return Outcome("retry", kind, reason, retry_in=delay, video_id=claim.video_id)
