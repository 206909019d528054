"""Where a job stands: its place in line and when it should be done.

queue_position (1 = the job a free worker takes next) follows the order workers really take jobs
(core/jobs/scheduling.py). Under SCHEDULER=fair the workers go round the owners, fewest running
first, so a queued job's *round* is its rank among its owner's queued jobs (by lane, then upload
time) plus the owner's jobs running now; jobs are taken by round, then lane, upload time, id.
(Within a round and lane the workers take the owner served longest ago first; upload order
stands in for that here, so two owners' jobs of one round can swap places.)

Its cost does not grow with the queue:
- up to POSITION_EXACT_MAX queued jobs (the `queued` tally), one window query ranks them all —
  exact, and bounded by that constant;
- past it, the position is *estimated* (estimate_positions): the jobs of every earlier round
  (a sum over the `round_count` rows the database keeps, core/counters.py), plus the jobs
  sharing the job's round in the share that its (lane, upload minute) has among all queued jobs
  (queue_histogram). The true position lies between the first and the last place of its round
  (Estimate.low/high); the scale benchmark measures the error against the exact ranking.
Under SCHEDULER=fifo each message runs its own job, by enqueued_at: the count of queued jobs
enqueued before it (an index range, so O(position); fifo is the comparison mode).

eta_seconds comes from the fleet's measured recent throughput: the mean processing time of the
last RECENT_JOBS jobs and the jobs processing now (the live slots, each with its remaining time
from its own progress rate). Queued: the jobs ahead are dealt to the slots as they free up, then
the job's own processing time. Processing: elapsed × (100 − progress) / progress, blended with
the mean time less the elapsed below 25 % (start-up makes early rates overshoot). None when
nothing has been measured yet: no guess is shown as a figure.
"""

from __future__ import annotations

import bisect
import functools
import heapq
import itertools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, case, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from core.counters import read_tallies
from core.jobs.scheduling import SHORT, SchedulingPolicy, running_per_owner
from core.models import OwnerQueue, QueueHistogram, RoundCount, Video, VideoStatus, as_utc

RECENT_JOBS = 20
RECENT_WINDOW = timedelta(hours=6)
MIN_PROGRESS_FOR_RATE = 3  # below this a progress rate alone is mostly start-up time
TRUST_RATE_FROM_PERCENT = 25.0
POSITION_EXACT_MAX = 1_000  # queued jobs up to which positions are ranked exactly (cost bound)
RUNNING_SAMPLE = 500  # running jobs read for the ETA (the slot count comes from the tally)
DEAL_EXACT_MAX = 10_000  # positions dealt to the slots one by one; beyond, in whole rounds


@dataclass(frozen=True)
class Running:
    elapsed: float
    progress: int


@dataclass(frozen=True)
class Fleet:
    job_seconds: float | None  # mean processing time of recent jobs; None: nothing measured
    running: tuple[Running, ...]  # the busy slots now (a sample of at most RUNNING_SAMPLE)
    slots: int = 0  # how many slots are busy (0: as many as `running`)

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
        """Seconds from now until the job at each position 1..`positions` starts."""
        if self.job_seconds is None:
            return None
        return [self.start_time(p) for p in range(1, positions + 1)]  # type: ignore[misc]

    @functools.cached_property
    def _free(self) -> list[float]:
        """When each sampled busy slot frees up, soonest first."""
        assert self.job_seconds is not None
        free = [self.remaining(r) for r in self.running]
        return sorted(f if f is not None else self.job_seconds for f in free) or [0.0]

    @functools.cached_property
    def _dealt(self) -> list[float]:
        """Start times of the first DEAL_EXACT_MAX positions: the jobs ahead dealt to the slots
        as they free up (only when every busy slot is in the sample)."""
        assert self.job_seconds is not None
        slots = list(self._free)
        heapq.heapify(slots)
        starts = []
        for _ in range(min(DEAL_EXACT_MAX, 4 * len(slots))):
            start = heapq.heappop(slots)
            starts.append(start)
            heapq.heappush(slots, start + self.job_seconds)
        return starts

    def start_time(self, position: int) -> float | None:
        """Seconds from now until the job at `position` starts; None when nothing is measured.
        Exact (dealt one by one) near the front when every busy slot was sampled; beyond, in
        whole rounds: the slot that frees up i-th (of n) takes positions i, i + n, i + 2n, …"""
        if self.job_seconds is None:
            return None
        if self.slots <= len(self.running) and position <= len(self._dealt):
            return self._dealt[position - 1]
        free = self._free
        n = max(self.slots, len(free))
        rounds, index = divmod(position - 1, n)
        return free[index * len(free) // n] + rounds * self.job_seconds


class StartTimes(Sequence[float]):
    """Start times by position (0-based), worked out only for the positions asked for."""

    def __init__(self, fleet: Fleet) -> None:
        self.fleet = fleet

    def __len__(self) -> int:
        return 2**31 - 1

    def __getitem__(self, index):  # type: ignore[no-untyped-def, override]
        start = self.fleet.start_time(index + 1)
        assert start is not None
        return start


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
    """Each queued job's place in line (others are left out); see the module docstring."""
    wanted = set(ids)
    if not wanted:
        return {}
    if not policy.fair:
        return await _fifo_positions(session, wanted)
    queued = (await read_tallies(session, "queued"))["queued"]
    if queued <= POSITION_EXACT_MAX:
        ranked = positions_query(policy, now).subquery()
        rows = await session.execute(
            select(ranked.c.id, ranked.c.position).where(ranked.c.id.in_(wanted))
        )
        return {int(r.id): int(r.position) for r in rows}
    return {v: e.position for v, e in (await estimate_positions(session, wanted)).items()}


async def _fifo_positions(session: AsyncSession, ids: set[int]) -> dict[int, int]:
    ahead = aliased(Video)
    before = (
        select(func.count())
        .where(ahead.status == VideoStatus.queued)
        .where(tuple_(ahead.enqueued_at, ahead.id) < tuple_(Video.enqueued_at, Video.id))
        .correlate(Video)
        .scalar_subquery()
    )
    rows = await session.execute(
        select(Video.id, before).where(Video.id.in_(ids), Video.status == VideoStatus.queued)
    )
    return {int(i): int(n) + 1 for i, n in rows}


@dataclass(frozen=True)
class Estimate:
    position: int
    low: int  # the true position is within low..high: the jobs of every earlier round, and
    high: int  # those plus every job sharing its round


async def estimate_positions(session: AsyncSession, ids: set[int]) -> dict[int, Estimate]:
    """Positions from the counts the database keeps (core/counters.py): the job's round from
    its owner's running count and its rank in the owner's queue (an index count over that
    owner's jobs alone), every earlier round's jobs from round_count, and its place among the
    jobs sharing its round by where its (lane, upload minute) falls in queue_histogram —
    never a scan of the queue."""
    mine = aliased(Video)
    rank = (
        select(func.count())
        .where(mine.owner_id == Video.owner_id, mine.status == VideoStatus.queued)
        .where(
            tuple_(mine.priority, mine.uploaded_at, mine.id)
            < tuple_(Video.priority, Video.uploaded_at, Video.id)
        )
        .correlate(Video)
        .scalar_subquery()
    )
    rows = (
        await session.execute(
            select(Video.id, Video.priority, Video.uploaded_at, OwnerQueue.running + rank + 1)
            .join(OwnerQueue, OwnerQueue.owner_id == Video.owner_id)
            .where(Video.id.in_(ids), Video.status == VideoStatus.queued)
        )
    ).all()
    if not rows:
        return {}
    last = max(int(r[3]) for r in rows)
    per_round = dict(
        (
            await session.execute(
                select(RoundCount.round, func.sum(RoundCount.jobs))
                .where(RoundCount.round <= last)
                .group_by(RoundCount.round)
            )
        ).all()
    )
    place = await _histogram_place(session)
    estimates = {}
    for video_id, lane, uploaded_at, job_round in rows:
        ahead = sum(int(n) for r, n in per_round.items() if r < job_round)
        sharing = max(int(per_round.get(job_round, 1)), 1)
        within = round((sharing - 1) * place(lane, as_utc(uploaded_at)))
        estimates[int(video_id)] = Estimate(ahead + 1 + within, ahead + 1, ahead + sharing)
    return estimates


async def _histogram_place(session: AsyncSession) -> Callable[[int, datetime], float]:
    """(lane, upload time) → the share of queued jobs before it in that order (0..1)."""
    minute = QueueHistogram.minute
    rows = (
        await session.execute(
            select(QueueHistogram.lane, minute, func.sum(QueueHistogram.jobs))
            .group_by(QueueHistogram.lane, minute)
            .order_by(QueueHistogram.lane, minute)
        )
    ).all()
    keys = [(int(lane), int(m)) for lane, m, _ in rows]
    counts = [max(int(n), 0) for _, _, n in rows]
    before = list(itertools.accumulate(counts, initial=0))
    total = before[-1] or 1

    def place(lane: int, at: datetime) -> float:
        key = (lane, int(at.timestamp()) // 60)
        i = bisect.bisect_left(keys, key)
        own = counts[i] if i < len(keys) and keys[i] == key else 0
        return min(1.0, (before[i] + own / 2) / total)

    return place


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
            select(Video.started_at, Video.progress)
            .where(Video.status == VideoStatus.processing, Video.lease_until >= now)
            .limit(RUNNING_SAMPLE)
        )
    ).all()
    slots = (await read_tallies(session, "processing"))["processing"]
    return Fleet(
        sum(durations) / len(durations) if durations else None,
        tuple(
            Running(max((now - as_utc(r.started_at)).total_seconds(), 0.0), r.progress)
            for r in running
            if r.started_at is not None
        ),
        slots if len(running) >= RUNNING_SAMPLE else 0,
    )


def eta_seconds(
    fleet: Fleet, status: VideoStatus, progress: int, started_at: datetime | None,
    position: int | None, now: datetime, starts: Sequence[float] | None,
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
