"""The API side of a job's life: a new job is a `queued` row plus a message sent after the
commit; cancelling is deleting the row (a worker holding the job finds its fenced writes refused
and stops). Services call these; they never write job state themselves."""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import after_commit
from core.jobs.dispatch import JobPublisher, enqueue_after_commit, process_video_message
from core.jobs.scheduling import NORMAL
from core.models import Video, VideoStatus
from core.profiles import SEED_CHOICE, ChosenProfile
from core.storage import Storage, outputs_prefix


@dataclass(frozen=True)
class StoredOriginal:
    key: str
    content_type: str
    size: int


async def add_job(
    session: AsyncSession,
    owner_id: int,
    title: str,
    original: StoredOriginal,
    lane: int = NORMAL,
    profile: ChosenProfile = SEED_CHOICE,
) -> Video:
    """The `queued` row, flushed (so it has an id) but not yet announced to any worker."""
    video = Video(
        profile=profile.name,
        profile_definition=profile.definition or None,
        owner_id=owner_id,
        title=title,
        status=VideoStatus.queued,
        task_id=str(uuid.uuid4()),
        original_key=original.key,
        original_content_type=original.content_type,
        original_bytes=original.size,
        priority=lane,
    )
    session.add(video)
    await session.flush()
    return video


def enqueue_job(session: AsyncSession, publisher: JobPublisher, video: Video) -> None:
    """Announce the job to the workers once the transaction that made it commits."""
    enqueue_after_commit(session, publisher, process_video_message(video.id, video.task_id))


async def cancel_job(session: AsyncSession, storage: Storage, video_id: int) -> bool:
    """Delete an unpublished job in one statement, whatever state it is in; its stored files go
    once the delete commits: the original and every output of every attempt (an HLS tree too).
    False if it is published or already gone."""
    result = await session.execute(
        delete(Video)
        .where(Video.id == video_id, Video.published.is_(False))
        .returning(Video.original_key)
    )
    row = result.one_or_none()
    if row is None:
        return False
    after_commit(session, functools.partial(storage.delete_sync, row.original_key))
    after_commit(session, functools.partial(storage.delete_prefix_sync, outputs_prefix(video_id)))
    return True
