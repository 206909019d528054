"""The job backlog read from the database (never the broker): admission control and the
autoscaling metrics both use it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from core.counters import read_tallies
from core.models import Video, VideoStatus, as_utc, status_is, utcnow


@dataclass(frozen=True)
class Backlog:
    queued: int
    processing: int
    oldest_queued_age: float  # seconds; 0 when nothing is queued


def _age(oldest: datetime | None) -> float:
    return 0.0 if oldest is None else max(0.0, (utcnow() - as_utc(oldest)).total_seconds())


async def read_backlog(bind: AsyncEngine | AsyncConnection) -> Backlog:
    """The tallies the database keeps (core/counters.py) and one probe of ix_video_queued_at:
    constant time, whatever the queue's length. On a connection of its own (or the one given)."""
    if isinstance(bind, AsyncEngine):
        async with bind.connect() as conn:
            return await read_backlog(conn)
    counts = await read_tallies(bind, "queued", "processing")
    oldest = await bind.scalar(
        select(Video.uploaded_at)
        .where(status_is(VideoStatus.queued))
        .order_by(Video.uploaded_at)
        .limit(1)
    )
    return Backlog(counts["queued"], counts["processing"], _age(oldest))
