"""Resumable uploads for their owner: create, hold one PATCH at a time, record progress, finish
through the same service function as the multipart upload (commit, then enqueue), terminate.

State lives in the `upload` row and the bytes in storage (core/storage/resumable.py): any API
process can take any PATCH. A PATCH takes the row's lock with a compare-and-set (also checking
the client's offset), streams with no database connection held, then records what arrived."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import (
    BadRequest,
    Conflict,
    NotFound,
    PayloadTooLarge,
    TooManyRequests,
    UnsupportedMedia,
)
from app.uploads.protocol import Gone, Locked
from app.videos import service as videos
from app.videos.quotas import QuotaExceeded
from app.videos.sniff import SNIFF_BYTES, human_bytes, sniff_container
from app.videos.upload import ReceivedUpload, clean_title
from core.db import Database
from core.jobs.dispatch import JobPublisher
from core.models import Upload, User, as_utc, utcnow
from core.profiles import ChosenProfile, choose
from core.settings import Settings
from core.storage import Storage, original_key
from core.storage.resumable import Progress, ResumableStore

log = logging.getLogger(__name__)
NOT_FOUND = "Upload not found"
UNSUPPORTED = "Unsupported file type: upload an MP4, MOV, MKV, WebM or AVI video"


@dataclass(frozen=True)
class Held:
    """A PATCH's hold on an upload: the row as it was when the lock was taken."""

    upload: Upload
    token: str
    already_complete: bool = False


def profile_of(upload: Upload) -> ChosenProfile:
    """The profile the upload was created with, as it was defined then."""
    return ChosenProfile(upload.profile, upload.profile_definition or "")


def validate_title(metadata: dict[str, str], settings: Settings) -> str:
    return clean_title(
        metadata.get("title"), settings.max_title_chars, "Upload-Metadata must carry a title"
    )


async def admit(
    database: Database, settings: Settings, user: User, length: int, add: Upload | None = None
) -> None:
    """Before any upload row exists (tus or direct): a size within the limit, the user's job and
    storage quotas, and room among their unfinished uploads. `add` is inserted in the same
    transaction as that last check (one pooled connection, not two)."""
    if length <= 0:
        raise BadRequest("The uploaded file is empty")
    if length > settings.max_upload_bytes:
        raise PayloadTooLarge(
            f"File too large: {human_bytes(length)}; "
            f"the limit is {human_bytes(settings.max_upload_bytes)}"
        )
    await videos.check_quotas(database, settings, user)
    async with database.session_scope() as session:
        await _check_reservations(session, settings, user, length)
        if add is not None:
            session.add(add)


def new_upload(
    settings: Settings, user: User, *, mode: str, title: str, filename: str | None, length: int,
    key: str, profile: ChosenProfile, backend_upload_id: str | None = None,
) -> Upload:  # fmt: skip
    now = utcnow()
    return Upload(
        id=uuid.uuid4().hex, owner_id=user.id, mode=mode, title=title, profile=profile.name,
        profile_definition=profile.definition or None,
        filename=(filename or "").replace("\x00", "")[:255] or None, length=length, offset=0,
        key=key, head=b"", backend_upload_id=backend_upload_id, parts="[]", tail_bytes=0,
        created_at=now, expires_at=now + timedelta(seconds=settings.upload_expires_seconds),
    )  # fmt: skip


async def create(
    database: Database, settings: Settings, user: User, length: int, metadata: dict[str, str]
) -> Upload:
    title = validate_title(metadata, settings)
    profile = choose(metadata.get("profile"), settings.profiles_file)
    key = original_key(uuid.uuid4().hex)
    upload = new_upload(settings, user, mode="tus", title=title, filename=metadata.get("filename"),
                        length=length, key=key, profile=profile)  # fmt: skip
    await admit(database, settings, user, length, add=upload)
    log.info("upload %s created: %d bytes", upload.id, length)
    return upload


async def _check_reservations(
    session: AsyncSession, settings: Settings, user: User, length: int
) -> None:
    """Nobody reserves the disk with thousands of empty uploads: open uploads and their bytes."""
    max_open, max_bytes = (
        settings.uploads_open_max_per_user,
        settings.uploads_reserved_bytes_per_user,
    )
    if not (max_open or max_bytes):
        return
    count, reserved = (
        await session.execute(
            select(func.count(), func.coalesce(func.sum(Upload.length - Upload.offset), 0)).where(
                Upload.owner_id == user.id, Upload.video_id.is_(None), Upload.expires_at > utcnow()
            )
        )
    ).one()
    if max_open and count >= max_open:
        raise TooManyRequests(
            f"You have {count} unfinished uploads (the limit is {max_open}); finish or delete one",
            {"Retry-After": "60"},
        )
    if max_bytes and reserved + length > max_bytes:
        raise QuotaExceeded(
            f"Unfinished uploads would reserve {human_bytes(reserved + length)}; the limit is "
            f"{human_bytes(max_bytes)}"
        )


async def owned(session: AsyncSession, user: User, upload_id: str, mode: str = "tus") -> Upload:
    """The caller's upload, or 404 — the same answer for another user's (nothing revealed)."""
    upload = await session.get(Upload, upload_id)
    if upload is None or upload.owner_id != user.id or upload.mode != mode:
        raise NotFound(NOT_FOUND)
    if upload.video_id is None and upload.expires_at is not None and _expired(upload):
        raise Gone("Upload expired; start a new one")
    return upload


def _expired(upload: Upload) -> bool:
    return as_utc(upload.expires_at) <= utcnow()


async def hold(
    database: Database, settings: Settings, user: User, upload_id: str, client_offset: int
) -> Held:
    """Take the upload for one PATCH: 409 if the client's offset is not the server's, 423 while
    another PATCH holds it."""
    token = uuid.uuid4().hex
    now = utcnow()
    async with database.session_scope() as session:
        # One round trip in the common case: the compare-and-set hands back the row it took.
        taken = (
            await session.execute(
                update(Upload)
                .where(
                    Upload.id == upload_id,
                    Upload.owner_id == user.id,
                    Upload.mode == "tus",
                    Upload.video_id.is_(None),
                    Upload.expires_at > now,
                    Upload.offset == client_offset,
                    (Upload.lock_until.is_(None)) | (Upload.lock_until < now),
                )
                .values(
                    lock_token=token,
                    lock_until=now + timedelta(seconds=settings.upload_lock_seconds),
                )
                .returning(Upload)
                .execution_options(synchronize_session=False)
            )
        ).scalar_one_or_none()
        if taken is not None:
            return Held(taken, token)
        upload = await owned(session, user, upload_id)  # why not: 404, 410, 409 or 423
    if upload.video_id is not None and client_offset == upload.length:
        return Held(upload, "", already_complete=True)  # a retried final PATCH: same answer
    if upload.offset != client_offset:
        raise Conflict(
            f"Upload-Offset {client_offset} does not match the upload's offset {upload.offset}"
        )
    raise Locked("Another request is writing to this upload; retry when it ends")


async def renew(database: Database, settings: Settings, held: Held) -> None:
    async with database.session_scope() as session:
        await session.execute(
            update(Upload)
            .where(Upload.id == held.upload.id, Upload.lock_token == held.token)
            .values(lock_until=utcnow() + timedelta(seconds=settings.upload_lock_seconds))
        )


async def release(database: Database, held: Held) -> None:
    """Give the upload back without recording anything (a discarded chunk)."""
    async with database.session_scope() as session:
        await session.execute(
            update(Upload)
            .where(Upload.id == held.upload.id, Upload.lock_token == held.token)
            .values(lock_token=None, lock_until=None)
        )


def sniffed(head: bytes, final: bool) -> str | None:
    """The container from the first bytes, once there are enough of them (or the file ended)."""
    if len(head) < SNIFF_BYTES and not final:
        return None
    content_type = sniff_container(head[:SNIFF_BYTES])
    if content_type is None:
        raise UnsupportedMedia(UNSUPPORTED)
    return content_type


async def record(
    database: Database,
    storage: Storage,
    publisher: JobPublisher,
    settings: Settings,
    user: User,
    held: Held,
    *,
    offset: int,
    progress: Progress,
    head: bytes,
    content_type: str | None,
) -> int | None:
    """Write what arrived and release the lock; on the last byte, create the job through the
    multipart path's own service function in the same transaction. Returns the video id then."""
    upload = held.upload
    async with database.session_scope() as session:
        values = {
            "offset": offset,
            "backend_upload_id": progress.backend_upload_id,
            "parts": progress.parts_json(),
            "tail_key": progress.tail_key,
            "tail_bytes": progress.tail_bytes,
            "head": head if content_type is None else b"",
            "content_type": content_type,
            "lock_token": None,
            "lock_until": None,
        }
        if offset < upload.length:
            await session.execute(
                update(Upload)
                .where(Upload.id == upload.id, Upload.lock_token == held.token)
                .values(**values)
            )
            return None
        assert content_type is not None
        received = ReceivedUpload(upload.title, upload.key, upload.length, content_type,
                                  profile=profile_of(upload))  # fmt: skip
        accepted = await videos.accept_upload(session, storage, publisher, settings, user, received)
        values["video_id"] = accepted.video_id
        await session.execute(
            update(Upload)
            .where(Upload.id == upload.id, Upload.lock_token == held.token)
            .values(**values)
        )
        log.info("upload %s complete: video %s", upload.id, accepted.video_id)
        return accepted.video_id


async def terminate(database: Database, store: ResumableStore, upload: Upload) -> None:
    """Delete the row and whatever bytes it had (the termination extension, a 415, an expiry)."""
    progress = Progress.from_row(
        upload.backend_upload_id, upload.parts, upload.tail_key, upload.tail_bytes
    )
    async with database.session_scope() as session:
        await session.execute(delete(Upload).where(Upload.id == upload.id))
    await store.discard(upload.id, upload.key, progress)


async def terminate_owned(
    database: Database, store: ResumableStore, user: User, upload_id: str
) -> None:
    async with database.sessions() as session:
        upload = await owned(session, user, upload_id)
    if upload.lock_until is not None and upload.lock_token and not _lock_lapsed(upload):
        raise Locked("A request is writing to this upload; retry when it ends")
    if upload.video_id is not None:
        raise Conflict("The upload is complete; delete the video instead")
    await terminate(database, store, upload)


def _lock_lapsed(upload: Upload) -> bool:
    return upload.lock_until is None or as_utc(upload.lock_until) < utcnow()
