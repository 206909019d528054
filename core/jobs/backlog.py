"""The job backlog read from the jobs table (never the broker): admission control and the
autoscaling metrics both use this one query."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from core.models import Video, VideoStatus, as_utc, utcnow


@dataclass(frozen=True)
class Backlog:
    queued: int
    processing: int
    oldest_queued_age: float  # seconds; 0 when nothing is queued


def _age(oldest: datetime | None) -> float:
    return 0.0 if oldest is None else max(0.0, (utcnow() - as_utc(oldest)).total_seconds())


async def read_backlog(bind: AsyncEngine | AsyncConnection) -> Backlog:
    """Two small indexed queries, on a connection of its own (or the one given)."""
    if isinstance(bind, AsyncEngine):
        async with bind.connect() as conn:
            return await read_backlog(conn)
    queued, oldest = (
        await bind.execute(
            select(func.count(), func.min(Video.uploaded_at)).where(
                Video.status == VideoStatus.queued
            )
        )
    ).one()
    processing = await bind.scalar(
        select(func.count()).where(Video.status == VideoStatus.processing)
    )
    return Backlog(int(queued), int(processing or 0), _age(oldest))
