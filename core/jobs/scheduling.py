"""Which job runs next. A job's message is a "there is work" signal: the worker that takes it
claims the fairest claimable job, which need not be the message's own (SCHEDULER=fair).

Order, best first:
  1. the owner with the fewest jobs processing now (fair across users: one user's 40 uploads
     never hold back another user's one), never past MAX_ACTIVE_JOBS_PER_USER;
  2. the lane: 0 = short (input ≤ SHORT_LANE_MAX_BYTES), 1 = normal, 2 = background — but a job
     waiting longer than LANE_PROMOTE_SECONDS counts as lane 0, so no lane starves;
  3. the owner served longest ago (latest start among jobs running or finished in the last
     SERVED_WINDOW; never served first) — when two slots free up together, both owners have
     none running, and without this the older upload's owner would win every such tie;
  4. upload time, then id (FIFO among equals).
Jobs whose worker died (processing, lease expired) are claimable like queued ones.

Claims on Postgres are serialised by a transaction-scoped advisory lock (JobStore.claim): two
slots picking at the same moment would otherwise both count the other's pick as not running yet
(it is uncommitted) and both take the same owner's jobs.

Why nothing is lost or run twice: every queued job has a message in flight (or the reconciler
re-sends one), each message claims at most one job with a compare-and-set, and a message whose
job is gone is dropped — so messages and claimable jobs stay in step (docs/architecture.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Select, Subquery, case, func, select

from core.models import Video, VideoStatus
from core.settings import Settings

SHORT, NORMAL, BACKGROUND = 0, 1, 2
SERVED_WINDOW = timedelta(minutes=10)  # how far back "served longest ago" looks (index-backed)


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


def _running(now: datetime) -> ColumnElement[bool]:
    return (Video.status == VideoStatus.processing) & (Video.lease_until >= now)


def running_per_owner(now: datetime) -> Subquery:
    """Per owner with jobs processing now under a live lease: `running`, their count."""
    return (
        select(Video.owner_id, func.count().label("running"))
        .where(_running(now))
        .group_by(Video.owner_id)
        .subquery()
    )


def _served_owners(now: datetime) -> Subquery:
    """Per owner with a job running or finished within SERVED_WINDOW: `running` (jobs processing
    now under a live lease) and `last_started` (when the owner was last served)."""
    is_running = _running(now)
    finished_lately = Video.status.in_((VideoStatus.processed, VideoStatus.failed)) & (
        Video.processed_at >= now - SERVED_WINDOW
    )
    return (
        select(
            Video.owner_id,
            func.count(case((is_running, 1))).label("running"),
            func.max(Video.started_at).label("last_started"),
        )
        .where(is_running | finished_lately)
        .group_by(Video.owner_id)
        .subquery()
    )


def fairest(policy: SchedulingPolicy, now: datetime, limit: int = 1) -> Select[int]:
    """The next claimable job ids, best first, locked (SKIP LOCKED where the database has it)."""
    served = _served_owners(now)
    running = func.coalesce(served.c.running, 0)
    promoted = now - timedelta(seconds=policy.lane_promote_seconds)
    lane = case((Video.uploaded_at < promoted, SHORT), else_=Video.priority)
    query = (
        select(Video.id)
        .outerjoin(served, served.c.owner_id == Video.owner_id)
        .where(claimable(now))
        .order_by(running, lane, served.c.last_started.nulls_first(), Video.uploaded_at, Video.id)
        .limit(limit)
        .with_for_update(of=Video, skip_locked=True)
    )
    if policy.max_active_per_user:
        query = query.where(running < policy.max_active_per_user)
    return query
