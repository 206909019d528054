"""Videos for their owner: accept an upload (a new job through core.jobs), read, delete
(cancel the job), publish, find the stored file to serve. Job state is never written here."""

from __future__ import annotations

import functools
import logging
from contextlib import nullcontext
from dataclasses import dataclass

import anyio
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import BadRequest, Conflict, Forbidden, NotFound
from app.metrics import JOBS_CREATED
from app.pagination import Page
from app.videos import idempotency, outputs, quotas
from app.videos.schemas import UploadAccepted, Variant, VideoDetail, VideoSummary, file_url
from app.videos.standing import Standing
from app.videos.upload import ReceivedUpload
from core.db import Database, after_commit, after_rollback
from core.jobs import lifecycle
from core.jobs.dispatch import JobPublisher
from core.jobs.scheduling import lane_for
from core.models import IdempotencyKey, User, Video, VideoStatus, public_status, utcnow
from core.settings import Settings
from core.storage import Storage

log = logging.getLogger(__name__)
NOT_FOUND = "Video not found"
NOT_OWNER = "You are not authorized to access this video"


async def accept_upload(
    session: AsyncSession,
    storage: Storage,
    publisher: JobPublisher,
    settings: Settings,
    owner: User,
    upload: ReceivedUpload,
    idempotency_key: str | None = None,
) -> UploadAccepted:
    """Record the job (enqueued after commit) or, for a replayed Idempotency-Key, answer what
    the first request got and drop the duplicate bytes."""
    drop_upload = functools.partial(storage.delete_sync, upload.key)
    after_rollback(session, drop_upload)
    if idempotency_key and (existing := await idempotency.find(session, owner.id, idempotency_key)):
        after_commit(session, drop_upload)
        return UploadAccepted.model_validate_json(idempotency.replay(existing, upload))
    if quotas.enabled(settings):
        quotas.enforce(settings, await quotas.usage(session, owner.id), upload.size)
    try:
        # The savepoint exists for the one insert that may collide (a concurrent request with
        # the same Idempotency-Key); without a key it would only add two round trips.
        async with session.begin_nested() if idempotency_key else nullcontext():
            original = lifecycle.StoredOriginal(upload.key, upload.content_type, upload.size)
            lane = lane_for(upload.size, settings)
            video = await lifecycle.add_job(
                session, owner.id, upload.title, original, lane, upload.profile
            )
            accepted = UploadAccepted(
                task_id=video.task_id, video_id=video.id, status_url=f"/api/videos/{video.id}"
            )
            if idempotency_key:
                session.add(
                    IdempotencyKey(
                        user_id=owner.id,
                        key=idempotency_key,
                        fingerprint=idempotency.fingerprint(upload),
                        video_id=video.id,
                        response=accepted.model_dump_json(),
                    )
                )
                await session.flush()
    except IntegrityError:  # a concurrent request with the same key committed first
        if not idempotency_key:
            raise
        existing = await idempotency.find(session, owner.id, idempotency_key)
        if existing is None:
            raise
        after_commit(session, drop_upload)
        return UploadAccepted.model_validate_json(idempotency.replay(existing, upload))
    lifecycle.enqueue_job(session, publisher, video)  # after the savepoint: never a lost row
    JOBS_CREATED.inc()
    log.info("video %s accepted: %d bytes, %s", video.id, upload.size, upload.content_type)
    return accepted


async def check_quotas(database: Database, settings: Settings, user: User) -> None:
    """Before the body is read, in a short session of its own (none is held while it streams)."""
    if not quotas.enabled(settings):
        return
    async with database.sessions() as session:
        used = await quotas.usage(session, user.id)
    quotas.enforce(settings, used)


async def list_videos(session: AsyncSession, owner: User, page: Page) -> tuple[list[Video], int]:
    total = await session.scalar(select(func.count()).where(Video.owner_id == owner.id))
    rows = await session.scalars(
        select(Video)
        .where(Video.owner_id == owner.id)
        .order_by(Video.uploaded_at.desc(), Video.id.desc())
        .limit(page.limit)
        .offset(page.offset)
    )
    return list(rows), total or 0


async def get_owned_video(session: AsyncSession, user: User, video_id: int) -> Video:
    video = await session.get(Video, video_id)
    if video is None:
        raise NotFound(NOT_FOUND)
    if video.owner_id != user.id:
        raise Forbidden(NOT_OWNER)
    return video


def summary(settings: Settings, video: Video, standing: Standing | None = None) -> VideoSummary:
    standing = standing or Standing()
    return VideoSummary(
        video_id=video.id,
        title=video.title,
        status=public_status(video.status),
        progress=video.progress,
        uploaded_at=video.uploaded_at,
        processed_at=video.processed_at,
        processed_url=outputs.processed_url(settings, video),
        queue_position=standing.queue_position,
        eta_seconds=standing.eta_seconds,
        retry_at=video.retry_at if video.status == VideoStatus.retrying else None,
        profile=video.profile,
        published=video.published,
        thumbnail_url=file_url(video.id, "thumbnail") if video.thumbnail_key else None,
    )


async def detail(settings: Settings, video: Video, standing: Standing | None = None) -> VideoDetail:
    return VideoDetail(
        **summary(settings, video, standing).model_dump(),
        error=video.error,
        original_url=file_url(video.id, "original"),
        duration_seconds=video.duration_seconds,
        votes=video.votes,  # kept by trigger (core/counters.py)
        outputs=outputs.outputs_of(settings, video),
    )


async def delete_video(session: AsyncSession, storage: Storage, user: User, video_id: int) -> None:
    """Cancel the job: a worker still holding it finds its claim gone, stops, and removes
    whatever it wrote. Stored files go once the delete is committed."""
    video = await get_owned_video(session, user, video_id)
    if video.published:
        raise BadRequest("Cannot delete a public video")
    if not await lifecycle.cancel_job(session, storage, video_id):
        # published or deleted by a concurrent request since we read it
        raise BadRequest("Cannot delete a public video")


async def publish_video(session: AsyncSession, user: User, video_id: int) -> Video:
    """One conditional UPDATE: a concurrent delete makes it match nothing (404), never a
    stale-data error."""
    video = await get_owned_video(session, user, video_id)
    if video.status != VideoStatus.processed:
        raise Conflict("Only processed videos can be published")
    if not video.published:
        published = await session.scalar(
            update(Video)
            .where(Video.id == video_id, Video.status == VideoStatus.processed)
            .values(published=True, published_at=utcnow())
            .returning(Video.id)
            .execution_options(synchronize_session=False)
        )
        if published is None:
            raise NotFound(NOT_FOUND)
        await session.refresh(video)
    return video


@dataclass(frozen=True)
class StoredFile:
    key: str
    media_type: str
    filename: str


async def file_for(
    session: AsyncSession, storage: Storage, user: User | None, video_id: int, variant: Variant
) -> StoredFile:
    stored = await _stored_file(session, user, video_id, variant)
    if not await anyio.to_thread.run_sync(storage.exists_sync, stored.key):
        raise NotFound("This file is not available")
    return stored


async def _stored_file(
    session: AsyncSession, user: User | None, video_id: int, variant: Variant
) -> StoredFile:
    video = await session.get(Video, video_id)
    if video is None:
        raise NotFound(NOT_FOUND)
    public_variant = variant != "original" and video.published
    if not public_variant and (user is None or user.id != video.owner_id):
        raise NotFound(NOT_FOUND)  # never 403 here: ids must not be enumerable
    if variant == "original":
        if video.original_purged_at is not None:
            raise NotFound("The original was deleted after processing (retention policy)")
        return StoredFile(
            video.original_key, video.original_content_type, f"video-{video.id}-original"
        )
    key = video.processed_key if variant == "processed" else video.thumbnail_key
    if key is None:
        raise NotFound("This file is not available yet")
    if variant == "processed":
        return StoredFile(key, "video/mp4", f"video-{video.id}.mp4")
    return StoredFile(key, "image/jpeg", f"video-{video.id}.jpg")
