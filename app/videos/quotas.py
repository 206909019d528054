"""Per-user quotas, so one account cannot take everybody's share: jobs waiting in the queue
(429 past MAX_QUEUED_JOBS_PER_USER) and bytes kept in storage — originals and what the jobs made —
(507 past MAX_STORED_BYTES_PER_USER; a job whose outputs would pass it fails, worker/budget.py).
Checked before the body is read, and again with its real size."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import DomainError, TooManyRequests
from app.videos.sniff import human_bytes
from core.models import Video, VideoStatus
from core.settings import Settings

RETRY_AFTER_SECONDS = 30


class QuotaExceeded(DomainError):
    status_code = 507


@dataclass(frozen=True)
class Usage:
    queued: int
    stored_bytes: int


async def usage(session: AsyncSession, user_id: int) -> Usage:
    queued, stored = (
        await session.execute(
            select(
                func.count().filter(Video.status.in_((VideoStatus.queued, VideoStatus.retrying))),
                func.coalesce(
                    func.sum(Video.original_bytes).filter(Video.original_purged_at.is_(None)), 0
                )
                + func.coalesce(func.sum(Video.output_bytes), 0),
            ).where(Video.owner_id == user_id)
        )
    ).one()
    return Usage(int(queued), int(stored))


def enabled(settings: Settings) -> bool:
    """Both quotas off (0): no query at all on the upload path."""
    return bool(settings.max_queued_jobs_per_user or settings.max_stored_bytes_per_user)


def enforce(settings: Settings, used: Usage, incoming_bytes: int = 0) -> None:
    max_queued, max_bytes = settings.max_queued_jobs_per_user, settings.max_stored_bytes_per_user
    if max_queued and used.queued >= max_queued:
        raise TooManyRequests(
            f"You have {used.queued} videos waiting to be processed (the limit is {max_queued}); "
            "upload more once some are done",
            {"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    if max_bytes and used.stored_bytes + incoming_bytes > max_bytes:
        raise QuotaExceeded(
            f"Storage quota exceeded: {human_bytes(used.stored_bytes)} of "
            f"{human_bytes(max_bytes)} used; delete videos to upload more"
        )
