"""When a job should be done: eta_seconds, from the fleet's measured recent throughput.

The mean processing time of the last RECENT_JOBS jobs and the jobs processing now (the live
slots, each with its remaining time from its own progress rate; a sample of at most
RUNNING_SAMPLE, the slot count from the `processing` tally). Queued: the jobs ahead
(core/jobs/positions.py) are dealt to the slots as they free up, then the job's own processing
time. Processing: elapsed × (100 − progress) / progress, blended with the mean time less the
elapsed below 25 % (start-up makes early rates overshoot). None when nothing has been measured
yet: no guess is shown as a figure.
"""

from __future__ import annotations

import functools
import heapq
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.counters import read_tallies
from core.models import Video, VideoStatus, as_utc, status_is

RECENT_JOBS = 20
RECENT_WINDOW = timedelta(hours=6)
MIN_PROGRESS_FOR_RATE = 3  # below this a progress rate alone is mostly start-up time
TRUST_RATE_FROM_PERCENT = 25.0
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

    def __getitem__(self, index: Any) -> Any:  # bisect reads it as a sequence
        start = self.fleet.start_time(index + 1)
        assert start is not None
        return start


async def read_fleet(session: AsyncSession, now: datetime) -> Fleet:
    recent = (
        await session.execute(
            select(Video.started_at, Video.processed_at)
            .where(
                status_is(VideoStatus.processed),
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
            .where(status_is(VideoStatus.processing), Video.lease_until >= now)
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


def retry_eta(fleet: Fleet, retry_at: datetime | None, now: datetime) -> int | None:
    """A job waiting for its retry: the wait, then one job's time (at least; it may queue)."""
    if retry_at is None or fleet.job_seconds is None:
        return None
    return round(max((as_utc(retry_at) - now).total_seconds(), 0.0) + fleet.job_seconds)
