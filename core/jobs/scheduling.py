"""Which job runs next. A job's message is a "there is work" signal: the worker that takes it
claims the fairest claimable job, which need not be the message's own (SCHEDULER=fair).

Order, best first:
  1. the owner with the fewest jobs processing now (fair across users: one user's 40 uploads
     never hold back another user's one), never past MAX_ACTIVE_JOBS_PER_USER;
  2. the lane of the owner's best queued job: 0 = short (input ≤ SHORT_LANE_MAX_BYTES),
     1 = normal, 2 = background — a job waiting longer than LANE_PROMOTE_SECONDS is moved to
     lane 0 before the next fair pick (`promote`), so no lane starves;
  3. the owner served longest ago (never served first) — when two slots free up together, both
     owners have none running, and without this the older upload's owner would win every tie;
  4. upload time, then id (FIFO among equals).

The pick is one walk of one index (`ix_owner_queue_pick` on owner_queue: running, head lane,
last served, head upload time), whose rows the database keeps in the same transaction as every
job change (core/counters.py): its cost is O(log owners), whatever the size of the queue or of
the history. Claims on Postgres are serialised by a transaction-scoped advisory lock, taken
and released inside one call (core/jobs/claim_sql.py): two slots picking at the same moment
would otherwise both read the same owner as having nothing running and both take its jobs.

Jobs whose worker died (processing, lease expired) go before every queued job, claimed by the
first message to come (the reconciler re-sends one for each); until then they still count as
their owner's running job.

Why nothing is lost or run twice: every queued job has a message in flight (or the reconciler
re-sends one), each message claims at most one job with a compare-and-set, and a message whose
job is gone is dropped — so messages and claimable jobs stay in step (docs/architecture.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    DateTime,
    ScalarSelect,
    Select,
    Subquery,
    bindparam,
    func,
    select,
    update,
)

from core.models import OwnerQueue, Video, VideoStatus, status_is
from core.settings import Settings

SHORT, NORMAL, BACKGROUND = 0, 1, 2
PROMOTE_BATCH = 100  # jobs moved to lane 0 per pick at most (each job is moved once)


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


def claimable(now: datetime | ColumnElement[datetime]) -> ColumnElement[bool]:
    """Queued, or processing by a worker whose lease ran out (it died)."""
    return (status_is(VideoStatus.queued)) | (
        (status_is(VideoStatus.processing)) & (Video.lease_until < now)
    )


def _running(now: datetime) -> ColumnElement[bool]:
    return (status_is(VideoStatus.processing)) & (Video.lease_until >= now)


def running_per_owner(now: datetime) -> Subquery:
    """Per owner with jobs processing now under a live lease: `running`, their count."""
    return (
        select(Video.owner_id, func.count().label("running"))
        .where(_running(now))
        .group_by(Video.owner_id)
        .subquery()
    )


_DUE = (
    select(Video.id)
    .where(status_is(VideoStatus.queued), Video.priority > SHORT)
    .where(Video.uploaded_at < bindparam("promoted", type_=DateTime(timezone=True)))
    .order_by(Video.uploaded_at)
    .limit(PROMOTE_BATCH)
)
_TO_SHORT = (
    update(Video)
    .values(priority=SHORT)
    .where(
        Video.id.in_(  # rows another promoter holds are skipped (it is moving them): no waits
            select(Video.id)
            .where(Video.id.in_(bindparam("ids", expanding=True)))
            .where(status_is(VideoStatus.queued), Video.priority > SHORT)
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
    )
)


def due_exists() -> ScalarSelect[bool]:
    """Whether any queued job is due for promotion (bind `promoted`): one index probe."""
    return select(_DUE.exists()).scalar_subquery()


def due_for_promotion(conn: Connection, policy: SchedulingPolicy, now: datetime) -> list[int]:
    """Queued jobs that waited past LANE_PROMOTE_SECONDS and are not in lane 0 yet: one probe
    of ix_video_queue_promote when there are none. Read without locking anything."""
    promoted = now - timedelta(seconds=policy.lane_promote_seconds)
    return list(conn.execute(_DUE, {"promoted": promoted}).scalars())


def promote(conn: Connection, ids: list[int]) -> None:
    """Move them to lane 0 (their owners' heads follow, by trigger), one row per statement on
    an autocommit connection: a change of one row takes its owner's counter rows in the same
    order as a claim does (core/counter_triggers.py), so promoting never deadlocks with a
    claim, and never inside a claim. A many-row UPDATE would hold several owners' rows at once,
    in scan order — two promoters (or a promoter and a claim) could then wait for each other."""
    for video_id in ids:
        conn.execute(_TO_SHORT, {"ids": [video_id]})


def abandoned_first() -> Select[Any]:
    """The job whose worker died longest ago (processing, lease run out): taken before any
    queued head, by whichever message comes — its own may be far back in the queue. One probe
    of ix_video_processing_lease (bind `now`)."""
    now = bindparam("now", type_=DateTime(timezone=True))
    return (
        select(Video.id)
        .where(status_is(VideoStatus.processing), Video.lease_until < now)
        .order_by(Video.lease_until)
        .limit(1)
    )


def fairest(policy: SchedulingPolicy) -> Select[Any]:
    """The fairest queued job's id: the head of the first owner in ix_owner_queue_pick."""
    query = (
        select(OwnerQueue.head_id)
        .where(OwnerQueue.queued > 0)
        .order_by(
            OwnerQueue.running,
            OwnerQueue.head_lane,
            OwnerQueue.last_started.asc().nulls_first(),
            OwnerQueue.head_at,
            OwnerQueue.head_id,
        )
        .limit(1)
    )
    if policy.max_active_per_user:
        query = query.where(OwnerQueue.running < policy.max_active_per_user)
    return query
