"""Which job runs next. A job's message is a "there is work" signal: the worker that takes it
claims the fairest claimable job, which need not be the message's own (SCHEDULER=fair).

Order, best first:
  1. the owner with the fewest jobs processing now (fair across users: one user's 40 uploads
     never hold back another user's one), never past MAX_ACTIVE_JOBS_PER_USER;
  2. the lane: 0 = short (input ≤ SHORT_LANE_MAX_BYTES), 1 = normal, 2 = background — but a job
     waiting longer than LANE_PROMOTE_SECONDS counts as lane 0, so no lane starves;
  3. upload time, then id (FIFO among equals).
Jobs whose worker died (processing, lease expired) are claimable like queued ones.

Why nothing is lost or run twice: every queued job has a message in flight (or the reconciler
re-sends one), each message claims at most one job with a compare-and-set, and a message whose
job is gone is dropped — so messages and claimable jobs stay in step (docs/architecture.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Select, case, func, select

from core.models import Video, VideoStatus
from core.settings import Settings

SHORT, NORMAL, BACKGROUND = 0, 1, 2


@dataclass(frozen=True)
class SchedulingPolicy:
    fair: bool = True
    max_active_per_user: int = 0  # 0 = no cap
    lane_promote_seconds: float = 300.0

    @classmethod
    def from_settings(cls, settings: Settings) -> SchedulingPolicy:
        return cls(
            fair=settings.scheduler == "fair",
            max_active_per_user=settings.max_active_jobs_per_user,
            lane_promote_seconds=settings.lane_promote_seconds,
        )


def lane_for(size_bytes: int, settings: Settings) -> int:
    return SHORT if size_bytes <= settings.short_lane_max_bytes else NORMAL


def claimable(now: datetime) -> ColumnElement[bool]:
    """Queued, or processing by a worker whose lease ran out (it died)."""
    return (Video.status == VideoStatus.queued) | (
        (Video.status == VideoStatus.processing) & (Video.lease_until < now)
    )


def fairest(policy: SchedulingPolicy, now: datetime, limit: int = 1) -> Select[int]:
    """The next claimable job ids, best first, locked (SKIP LOCKED where the database has it)."""
    active = (
        select(Video.owner_id, func.count().label("running"))
        .where(Video.status == VideoStatus.processing, Video.lease_until >= now)
        .group_by(Video.owner_id)
        .subquery()
    )
    running = func.coalesce(active.c.running, 0)
    promoted = now - timedelta(seconds=policy.lane_promote_seconds)
    lane = case((Video.uploaded_at < promoted, SHORT), else_=Video.priority)
    query = (
        select(Video.id)
        .outerjoin(active, active.c.owner_id == Video.owner_id)
        .where(claimable(now))
        .order_by(running, lane, Video.uploaded_at, Video.id)
        .limit(limit)
        .with_for_update(of=Video, skip_locked=True)
    )
    if policy.max_active_per_user:
        query = query.where(running < policy.max_active_per_user)
    return query
