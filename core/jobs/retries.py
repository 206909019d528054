"""Retries backed off per job, with two budgets.

A job that fails for a reason worth retrying is released as `retrying` with a `retry_at`; it is
not claimable before then, whatever messages arrive (a released job that every message could
claim at once would spend its retries in a second: the backoff must be on the job, not on the
message). When it is due, the claim path wakes it (`retrying` → `queued`, row by row, like lane
promotion) before a pick: one probe of ix_video_retry_due finds whether any is due.

The budgets, so a reason always says whose fault it was:
- `failures`: the job's own input failed in a way that might pass on a second try (FFmpeg crashed
  or stalled) — MAX_ATTEMPTS of them, then "Gave up after N attempts: <reason>";
- `interruptions`: the service failed (storage, database or broker unreachable) — retried with
  the same schedule until RETRY_DEADLINE_SECONDS after the first, then "The service could not
  process this video for …: <reason>";
- `worker_losses`: a worker died holding the job (its lease ran out) — MAX_WORKER_LOSSES, then
  failed: a video that kills its worker every time must not take the fleet down forever.
Permanent causes (a rejected input, a missing original) fail at once.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import Connection, DateTime, bindparam, select, update

from core.models import Video, VideoStatus, status_is
from core.settings import Settings

WAKE_BATCH = 100  # due jobs woken per pick at most (each is woken once)


def retry_delay(settings: Settings, retries_so_far: int, rng: random.Random | None = None) -> float:
    """Seconds until the next try, after `retries_so_far` earlier retries of the same budget."""
    schedule = settings.retry_schedule_seconds
    base = schedule[min(retries_so_far, len(schedule) - 1)]
    spread = base * settings.retry_jitter
    return max(0.0, base + (rng or random).uniform(-spread, spread))


def interruption_deadline(settings: Settings, since: datetime) -> datetime:
    return since + timedelta(seconds=settings.retry_deadline_seconds)


def human_duration(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:g} h"
    if seconds >= 60:
        return f"{seconds / 60:g} min"
    return f"{seconds:g} s"


_DUE = (
    select(Video.id)
    .where(status_is(VideoStatus.retrying))
    .where(Video.retry_at <= bindparam("now", type_=DateTime(timezone=True)))
    .order_by(Video.retry_at)
    .limit(WAKE_BATCH)
)
_WAKE = (
    update(Video)
    .where(Video.id == bindparam("video_id"), status_is(VideoStatus.retrying))
    .values(status=VideoStatus.queued, retry_at=None)
)


def due_retries(conn: Connection, now: datetime) -> list[int]:
    """Retrying jobs whose time has come: one probe of ix_video_retry_due when none is."""
    return list(conn.execute(_DUE, {"now": now}).scalars())


def wake(conn: Connection, ids: list[int]) -> None:
    """`retrying` → `queued` (their owners' heads follow, by trigger), one row per statement on
    an autocommit connection — the same lock order as a claim (core/jobs/scheduling.py)."""
    for video_id in ids:
        conn.execute(_WAKE, {"video_id": video_id})
