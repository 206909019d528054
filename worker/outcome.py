"""How a run ended (`Outcome`, for the task, its metrics and logs) and the retry policy: a
transient failure goes back to `queued` with exponential backoff until MAX_ATTEMPTS, then fails."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from core.jobs.store import Claim, JobStore
from core.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    kind: str  # processed | failed | cancelled | skipped | retry
    reason_class: str  # a bounded label for metrics
    detail: str = ""
    retry_in: float | None = None
    realtime_factor: float | None = None


def gave_up(attempts: int, reason: str | None) -> str:
    return f"Gave up after {attempts} attempts: {reason or 'the worker stopped while processing'}"


def fail_permanently(claim: Claim, jobs: JobStore, reason: str, reason_class: str) -> Outcome:
    jobs.fail(claim, reason)
    return Outcome("failed", reason_class, reason)


def retry_or_give_up(claim: Claim, jobs: JobStore, settings: Settings, reason: str) -> Outcome:
    log.warning("video %s attempt %s: transient failure: %s", claim.video_id, claim.attempt, reason)
    if claim.attempt >= settings.max_attempts:
        jobs.fail(claim, gave_up(claim.attempt, reason))
        return Outcome("failed", "gave_up", reason)
    jobs.release_for_retry(claim, reason)
    backoff = settings.retry_backoff_seconds * 2 ** (claim.attempt - 1)
    return Outcome("retry", "transient", reason, retry_in=backoff)
