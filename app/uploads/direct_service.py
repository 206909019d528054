"""Direct-to-S3 uploads for their owner: the server chooses the key and starts an S3 multipart
upload, signs one part at a time (short-lived URLs), lists parts for a resume, and on complete
verifies the object — size within the limit and as declared, a video by its first bytes (a ranged
GET) — before creating the job through the multipart path's own service function. An object that
fails the checks is deleted; nothing half-done stays in the bucket."""

from __future__ import annotations

import logging
import uuid

import anyio
from sqlalchemy import delete

from app.errors import BadRequest, Conflict, PayloadTooLarge, UnsupportedMedia
from app.uploads import service as uploads
from app.videos import service as videos
from app.videos.sniff import SNIFF_BYTES, human_bytes, sniff_container
from app.videos.upload import ReceivedUpload
from core.db import Database
from core.jobs.dispatch import JobPublisher
from core.models import Upload, User
from core.profiles import choose
from core.settings import Settings
from core.storage import Storage, StorageError, original_key
from core.storage.direct import MAX_PARTS, MIN_PART_BYTES, DirectUploads
from core.storage.s3 import S3Storage

log = logging.getLogger(__name__)
MODE = "direct"


def direct_uploads(storage: Storage, settings: Settings) -> DirectUploads:
    if not isinstance(storage, S3Storage):
        raise Conflict(
            "Direct uploads need the S3 storage backend; upload through /api/uploads (tus) "
            "or /api/videos/upload instead"
        )
    return DirectUploads(storage, settings.direct_part_url_seconds)


def part_size(length: int) -> int:
    """The part size the client should use: S3's minimum, larger when 10,000 would not fit."""
    size = MIN_PART_BYTES
    while size * MAX_PARTS < length:
        size *= 2
    return size


async def create(
    database: Database,
    storage: Storage,
    settings: Settings,
    user: User,
    title: str,
    filename: str | None,
    length: int,
    profile_name: str | None = None,
) -> Upload:
    direct = direct_uploads(storage, settings)
    title = uploads.validate_title({"title": title}, settings)
    profile = choose(profile_name, settings.profiles_file)
    await uploads.admit(database, settings, user, length)
    key = original_key(uuid.uuid4().hex)
    s3_upload_id = await anyio.to_thread.run_sync(direct.create, key)
    upload = uploads.new_upload(settings, user, mode=MODE, title=title, filename=filename,
                                length=length, key=key, profile=profile,
                                backend_upload_id=s3_upload_id)  # fmt: skip
    async with database.session_scope() as session:
        session.add(upload)
    log.info("direct upload %s created: %d bytes to %s", upload.id, length, key)
    return upload


async def owned(database: Database, user: User, upload_id: str) -> Upload:
    async with database.sessions() as session:
        upload = await uploads.owned(session, user, upload_id, mode=MODE)
    if upload.video_id is not None:
        raise Conflict("The upload is complete")
    return upload


async def sign_part(direct: DirectUploads, upload: Upload, part_number: int) -> str:
    if not 1 <= part_number <= MAX_PARTS:
        raise BadRequest(f"Part numbers are 1-{MAX_PARTS}")
    assert upload.backend_upload_id is not None
    return await anyio.to_thread.run_sync(
        direct.sign_part, upload.key, upload.backend_upload_id, part_number
    )


async def list_parts(direct: DirectUploads, upload: Upload) -> list[dict[str, object]]:
    assert upload.backend_upload_id is not None
    return await anyio.to_thread.run_sync(direct.list_parts, upload.key, upload.backend_upload_id)


async def abort(database: Database, direct: DirectUploads, upload: Upload) -> None:
    async with database.session_scope() as session:
        await session.execute(delete(Upload).where(Upload.id == upload.id))
    assert upload.backend_upload_id is not None
    await anyio.to_thread.run_sync(direct.abort, upload.key, upload.backend_upload_id)


async def complete(
    database: Database,
    storage: Storage,
    publisher: JobPublisher,
    settings: Settings,
    user: User,
    upload: Upload,
    parts: list[tuple[int, str]],
) -> tuple[int, str, str]:
    """Assemble, verify, create the job. Returns (video id, task id, status url)."""
    direct = direct_uploads(storage, settings)
    if not parts:
        raise BadRequest("parts must list every uploaded part")
    assert upload.backend_upload_id is not None
    try:
        await anyio.to_thread.run_sync(
            direct.complete, upload.key, upload.backend_upload_id, sorted(parts)
        )
    except StorageError as exc:
        raise BadRequest(f"S3 refused to assemble the parts: {exc}") from None
    problem = await _verify(direct, upload, settings)
    if problem is not None:
        await anyio.to_thread.run_sync(direct.delete, upload.key)
        async with database.session_scope() as session:
            await session.execute(delete(Upload).where(Upload.id == upload.id))
        raise problem
    size = upload.length
    received = ReceivedUpload(upload.title, upload.key, size, str(upload.content_type),
                              profile=uploads.profile_of(upload))  # fmt: skip
    async with database.session_scope() as session:
        accepted = await videos.accept_upload(session, storage, publisher, settings, user, received)
        row = await session.get(Upload, upload.id)
        assert row is not None
        row.video_id, row.offset, row.content_type = accepted.video_id, size, upload.content_type
    log.info("direct upload %s complete: video %s", upload.id, accepted.video_id)
    return accepted.video_id, accepted.task_id, accepted.status_url


async def _verify(direct: DirectUploads, upload: Upload, settings: Settings) -> Exception | None:
    size = await anyio.to_thread.run_sync(direct.size, upload.key)
    if size > settings.max_upload_bytes:
        return PayloadTooLarge(
            f"File too large: {human_bytes(size)}; the limit is "
            f"{human_bytes(settings.max_upload_bytes)}; the object was deleted"
        )
    if size != upload.length:
        return BadRequest(
            f"The object has {size} bytes, {upload.length} were declared; it was deleted"
        )
    head = await anyio.to_thread.run_sync(direct.first_bytes, upload.key, SNIFF_BYTES)
    content_type = sniff_container(head)
    if content_type is None:
        return UnsupportedMedia(
            "Unsupported file type: upload an MP4, MOV, MKV, WebM or AVI "
            "video; the object was deleted"
        )
    upload.content_type = content_type
    return None
