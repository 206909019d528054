"""Where a job stands in line: queue_position (1 = the job a free worker takes next) follows
the order workers really take jobs
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
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, case, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from core.counters import read_tallies
from core.jobs.scheduling import SHORT, SchedulingPolicy, running_per_owner
from core.models import (
    OwnerQueue,
    QueueHistogram,
    RoundCount,
    Video,
    VideoStatus,
    as_utc,
    status_is,
)

POSITION_EXACT_MAX = 1_000  # queued jobs up to which positions are ranked exactly (cost bound)


def positions_query(policy: SchedulingPolicy, now: datetime) -> Select[tuple[int, int]]:
    """(video id, queue position) of every queued job."""
    queued = status_is(VideoStatus.queued)
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
    session: AsyncSession,
    policy: SchedulingPolicy,
    now: datetime,
    ids: Iterable[int],
    line: Line | None = None,
) -> dict[int, int]:
    """Each queued job's place in line (others are left out); see the module docstring.
    `line`: the counts of the whole line, read by the caller (a process shares one for a
    second, app/videos/standing.py), else read here."""
    wanted = set(ids)
    if not wanted:
        return {}
    if not policy.fair:
        return await _fifo_positions(session, wanted)
    line = line or await read_line(session)
    if line.queued <= POSITION_EXACT_MAX:
        ranked = positions_query(policy, now).subquery()
        rows = await session.execute(
            select(ranked.c.id, ranked.c.position).where(ranked.c.id.in_(wanted))
        )
        return {int(r.id): int(r.position) for r in rows}
    estimates = await estimate_positions(session, wanted, line)
    return {v: e.position for v, e in estimates.items()}


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
        select(Video.id, before).where(Video.id.in_(ids), status_is(VideoStatus.queued))
    )
    return {int(i): int(n) + 1 for i, n in rows}


@dataclass(frozen=True)
class Estimate:
    position: int
    low: int  # the true position is within low..high: the jobs of every earlier round, and
    high: int  # those plus every job sharing its round


async def estimate_positions(
    session: AsyncSession, ids: set[int], line: Line | None = None
) -> dict[int, Estimate]:
    """Positions from the counts the database keeps (core/counters.py): the job's round from
    its owner's running count and its rank in the owner's queue (an index count over that
    owner's jobs alone), every earlier round's jobs from round_count, and its place among the
    jobs sharing its round by where its (lane, upload minute) falls in queue_histogram —
    never a scan of the queue."""
    rows = (
        await session.execute(
            select(Video.id, Video.owner_id, Video.priority, Video.uploaded_at, OwnerQueue.running)
            .join(OwnerQueue, OwnerQueue.owner_id == Video.owner_id)
            .where(Video.id.in_(ids), status_is(VideoStatus.queued))
        )
    ).all()
    if not rows:
        return {}
    ranks = await _ranks_in_owner_queues(session, {r.owner_id for r in rows}, ids)
    rounds = {r.id: r.running + ranks[r.id] + 1 for r in rows if r.id in ranks}
    if not rounds:
        return {}  # all claimed meanwhile
    line = line or await read_line(session)
    estimates = {}
    for video_id, _owner, lane, uploaded_at, _running in rows:
        if video_id not in rounds:
            continue
        ahead, sharing = line.round_of(rounds[video_id])
        within = round((sharing - 1) * line.place(lane, as_utc(uploaded_at)))
        estimates[int(video_id)] = Estimate(ahead + 1 + within, ahead + 1, ahead + sharing)
    return estimates


async def _ranks_in_owner_queues(
    session: AsyncSession, owners: set[int], ids: set[int]
) -> dict[int, int]:
    """Each job's rank in its owner's queue (0 = the owner's next job): one walk of those
    owners' queued jobs in claim order (ix_video_queue_owner), never of the whole queue."""
    rank = func.row_number().over(
        partition_by=Video.owner_id, order_by=(Video.priority, Video.uploaded_at, Video.id)
    )
    ranked = (
        select(Video.id, (rank - 1).label("rank"))
        .where(Video.owner_id.in_(owners), status_is(VideoStatus.queued))
        .subquery()
    )
    found = await session.execute(select(ranked.c.id, ranked.c.rank).where(ranked.c.id.in_(ids)))
    return {int(i): int(r) for i, r in found}


@dataclass(frozen=True)
class Line:
    """Counts of the whole fair line: the `queued` tally, queued jobs per round (as prefix
    sums) and per (lane, upload minute) — a few hundred to a few thousand small rows, read in
    three queries however long the queue."""

    queued: int
    rounds: list[int]  # round numbers with queued jobs, ascending
    before_round: list[int]  # jobs in all rounds before rounds[i] (one more entry: the total)
    minutes: list[tuple[int, int]]  # (lane, minute) with queued jobs, ascending
    before_minute: list[int]  # jobs before minutes[i] in (lane, minute) order (+ the total)

    def round_of(self, job_round: int) -> tuple[int, int]:
        """(jobs in every earlier round, jobs sharing this round)."""
        i = bisect.bisect_left(self.rounds, job_round)
        sharing = 0
        if i < len(self.rounds) and self.rounds[i] == job_round:
            sharing = self.before_round[i + 1] - self.before_round[i]
        return self.before_round[i], max(sharing, 1)

    def place(self, lane: int, at: datetime) -> float:
        """The share (0..1) of queued jobs before (lane, upload time), its own minute halved."""
        i = bisect.bisect_left(self.minutes, (lane, int(at.timestamp()) // 60))
        own = 0
        if i < len(self.minutes) and self.minutes[i] == (lane, int(at.timestamp()) // 60):
            own = self.before_minute[i + 1] - self.before_minute[i]
        total = self.before_minute[-1] or 1
        return min(1.0, max(0.0, (self.before_minute[i] + own / 2) / total))


async def read_line(session: AsyncSession) -> Line:
    queued = (await read_tallies(session, "queued"))["queued"]
    rounds = (
        await session.execute(
            select(RoundCount.round, func.sum(RoundCount.jobs))
            .group_by(RoundCount.round)
            .having(func.sum(RoundCount.jobs) > 0)
            .order_by(RoundCount.round)
        )
    ).all()
    minute = QueueHistogram.minute
    minutes = (
        await session.execute(
            select(QueueHistogram.lane, minute, func.sum(QueueHistogram.jobs))
            .group_by(QueueHistogram.lane, minute)
            .having(func.sum(QueueHistogram.jobs) > 0)
            .order_by(QueueHistogram.lane, minute)
        )
    ).all()
    return Line(
        queued,
        [int(r) for r, _ in rounds],
        list(itertools.accumulate((int(n) for _, n in rounds), initial=0)),
        [(int(lane), int(m)) for lane, m, _ in minutes],
        list(itertools.accumulate((int(n) for _, _, n in minutes), initial=0)),
    )
