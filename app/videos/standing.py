"""A job's standing for its owner: `queue_position` (core/jobs/positions.py) and `eta_seconds`
(core/jobs/eta.py).

The fleet's figures (recent throughput, the jobs running now) are read at most once per
FLEET_CACHE_SECONDS per process, and so are the counts of the whole line that positions are
worked out from; the positions of the videos asked about then cost what core/jobs/positions.py
says (bounded, whatever the queue's length). Nothing here scans a table."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from core.jobs.eta import Fleet, StartTimes, eta_seconds, read_fleet, retry_eta
from core.jobs.positions import Line, queue_positions, read_line
from core.jobs.scheduling import SchedulingPolicy
from core.models import Video, VideoStatus, utcnow
from core.settings import Settings

FLEET_CACHE_SECONDS = 1.0
LIVE = (VideoStatus.queued, VideoStatus.processing, VideoStatus.retrying)


@dataclass(frozen=True)
class Standing:
    queue_position: int | None = None
    eta_seconds: int | None = None


class Forecaster:
    def __init__(self, settings: Settings) -> None:
        self.policy = SchedulingPolicy.from_settings(settings)
        self._fleet: Fleet | None = None
        self._taken_at = 0.0
        self._line: Line | None = None
        self._line_at = 0.0

    async def fleet(self, session: AsyncSession) -> Fleet:
        now = time.monotonic()
        if self._fleet is None or now - self._taken_at > FLEET_CACHE_SECONDS:
            self._fleet, self._taken_at = await read_fleet(session, utcnow()), now
        return self._fleet

    async def line(self, session: AsyncSession) -> Line:
        """The counts of the whole line (core/jobs/positions.py), shared by this process's
        requests for FLEET_CACHE_SECONDS: a position is at most that old."""
        now = time.monotonic()
        if self._line is None or now - self._line_at > FLEET_CACHE_SECONDS:
            self._line, self._line_at = await read_line(session), now
        return self._line

    def cached_fleet(self) -> Fleet | None:
        """The last figures read, without a query (live notices use it)."""
        return self._fleet

    async def standings(
        self, session: AsyncSession, videos: Sequence[Video]
    ) -> dict[int, Standing]:
        """Every video's standing: a queued or processing one is looked up, others are empty."""
        live = [v for v in videos if v.status in LIVE]
        if not live:
            return {v.id: Standing() for v in videos}
        now = utcnow()
        queued = [v.id for v in live if v.status == VideoStatus.queued]
        line = await self.line(session) if queued and self.policy.fair else None
        positions = await queue_positions(session, self.policy, now, queued, line)
        fleet = await self.fleet(session)
        starts = None if fleet.job_seconds is None else StartTimes(fleet)
        result = {v.id: Standing() for v in videos}
        for v in live:
            position = positions.get(v.id)
            if v.status == VideoStatus.retrying:  # no place in line until its retry is due
                result[v.id] = Standing(None, retry_eta(fleet, v.retry_at, now))
                continue
            eta = eta_seconds(fleet, v.status, v.progress, v.started_at, position, now, starts)
            result[v.id] = Standing(position, eta)
        return result

    async def standing(self, session: AsyncSession, video: Video) -> Standing:
        return (await self.standings(session, [video]))[video.id]
