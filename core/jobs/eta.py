"""Where a job stands: its place in line and when it should be done.

queue_position (1 = the job a free worker takes next) follows the order workers really take jobs
(core/jobs/scheduling.py). Under SCHEDULER=fair the workers go round the owners, fewest running
first, so a queued job's *round* is its rank among its owner's queued jobs (by lane, then upload
time) plus the owner's jobs running now; jobs are taken by round, then lane, upload time, id.
(Within a round and lane the workers take the owner served longest ago first; upload order
stands in for that here, so two owners' jobs of one round can swap places.)
Under SCHEDULER=fifo each message runs its own job: by enqueued_at. One window query over the
queued rows (the status index), never a scan of the whole table.

eta_seconds comes from the fleet's measured recent throughput: the mean processing time of the
last RECENT_JOBS jobs and the jobs processing now (the live slots, each with its remaining time
from its own progress rate). Queued: the jobs ahead are dealt to the slots as they free up, then
the job's own processing time. Processing: elapsed × (100 − progress) / progress, blended with
the mean time less the elapsed below 25 % (start-up makes early rates overshoot). None when
nothing has been measured yet: no guess is shown as a figure.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.jobs.scheduling import SHORT, SchedulingPolicy, running_per_owner
from core.models import Video, VideoStatus, as_utc

RECENT_JOBS = 20
RECENT_WINDOW = timedelta(hours=6)
MIN_PROGRESS_FOR_RATE = 3  # below this a progress rate alone is mostly start-up time
TRUST_RATE_FROM_PERCENT = 25.0


@dataclass(frozen=True)
class Running:
    elapsed: float
    progress: int


@dataclass(frozen=True)
class Fleet:
    job_seconds: float | None  # mean processing time of recent jobs; None: nothing measured
    running: tuple[Running, ...]  # the busy slots now

    def remaining(self, job: Running) -> float | None:
        """The job's own progress rate, blended with the fleet's mean time early on: the first
        percent are the slowest (probe, FFmpeg start-up), so the rate alone would overshoot.
        From TRUST_RATE_FROM_PERCENT on, the rate alone."""
        by_average = None if self.job_seconds is None else max(self.job_seconds - job.elapsed, 0.0)
        if job.progress < MIN_PROGRESS_FOR_RATE or job.elapsed <= 0:
            return by_average
        by_rate = job.elapsed * (100 - job.progress) / job.progress
        if by_average is None:
            return by_rate
        weight = min(1.0, job.progress / TRUST_RATE_FROM_PERCENT)
        return weight * by_rate + (1 - weight) * by_average

    def start_times(self, positions: int) -> list[float] | None:
        """Seconds from now until the job at each position 1..`positions` starts (the jobs
        ahead dealt to the slots as they free up); None when nothing has been measured."""
        if self.job_seconds is None:
            return None
        free = [self.remaining(r) for r in self.running]
        slots = [f if f is not None else self.job_seconds for f in free] or [0.0]
        heapq.heapify(slots)
        starts = []
        for _ in range(positions):
            start = heapq.heappop(slots)
            starts.append(start)
            heapq.heappush(slots, start + self.job_seconds)
        return starts


def positions_query(policy: SchedulingPolicy, now: datetime) -> Select[tuple[int, int]]:
    """(video id, queue position) of every queued job."""
    queued = Video.status == VideoStatus.queued
    if policy.fair:
        running = running_per_owner(now)
        promoted = now - timedelta(seconds=policy.lane_promote_seconds)
        lane = case((Video.uploaded_at < promoted, SHORT), else_=Video.priority)
        rank = func.row_number().over(
            partition_by=Video.owner_id, order_by=(lane, Video.uploaded_at, Video.id)
        )
        inner = (
            select(
                Video.id.label("id"),
                (rank + func.coalesce(running.c.running, 0)).label("round"),
                lane.label("lane"),
                Video.uploaded_at.label("at"),
            )
            .outerjoin(running, running.c.owner_id == Video.owner_id)
            .where(queued)
            .subquery()
        )
        order: tuple[Any, ...] = (inner.c.round, inner.c.lane, inner.c.at, inner.c.id)
    else:
        inner = select(Video.id.label("id"), Video.enqueued_at.label("at")).where(queued).subquery()
        order = (inner.c.at, inner.c.id)
    return select(inner.c.id, func.row_number().over(order_by=order).label("position"))


async def queue_positions(
    session: AsyncSession, policy: SchedulingPolicy, now: datetime, ids: Iterable[int]
) -> dict[int, int]:
    wanted = set(ids)
    if not wanted:
        return {}
    ranked = positions_query(policy, now).subquery()
    rows = await session.execute(
        select(ranked.c.id, ranked.c.position).where(ranked.c.id.in_(wanted))
    )
    return {int(r.id): int(r.position) for r in rows}


async def read_fleet(session: AsyncSession, now: datetime) -> Fleet:
    recent = (
        await session.execute(
            select(Video.started_at, Video.processed_at)
            .where(
                Video.status == VideoStatus.processed,
                Video.processed_at >= now - RECENT_WINDOW,
                Video.started_at.is_not(None),
            )
            .order_by(Video.processed_at.desc())
            .limit(RECENT_JOBS)
        )
    ).all()
    durations = [(as_utc(r.processed_at) - as_utc(r.started_at)).total_seconds() for r in recent]
    running = (
        await session.execute(
            select(Video.started_at, Video.progress).where(
                Video.status == VideoStatus.processing, Video.lease_until >= now
            )
        )
    ).all()
    return Fleet(
        sum(durations) / len(durations) if durations else None,
        tuple(
            Running(max((now - as_utc(r.started_at)).total_seconds(), 0.0), r.progress)
            for r in running
            if r.started_at is not None
        ),
    )


def eta_seconds(
    fleet: Fleet, status: VideoStatus, progress: int, started_at: datetime | None,
    position: int | None, now: datetime, starts: list[float] | None,
) -> int | None:  # fmt: skip
    """Seconds until processed; `starts` = fleet.start_times(≥ position)."""
    if status == VideoStatus.processing and started_at is not None:
        elapsed = max((now - as_utc(started_at)).total_seconds(), 0.0)
        left = fleet.remaining(Running(elapsed, progress))
        return None if left is None else round(left)
    if status == VideoStatus.queued and position is not None and starts is not None:
        assert fleet.job_seconds is not None
        return round(starts[position - 1] + fleet.job_seconds)
    return None
