"""One PATCH's bytes, once its hold is taken (service.hold): received into storage, then recorded
— or the hold given back, a non-video terminated, a refused job's assembled bytes dropped. Shared
by PATCH and creation-with-upload; a failure still says the upload's offset."""

from __future__ import annotations

import logging

from fastapi import Request

from app.collaborators import Collaborators
from app.errors import DomainError
from app.uploads import service
from app.uploads.protocol import Gone, parse_checksum
from app.uploads.receive import receive_chunk
from core.models import User
from core.storage import ObjectMissing, StorageError
from core.storage.resumable import Progress, ResumableStore, resumable_store

log = logging.getLogger(__name__)
LOST = "The stored bytes of this upload are gone, so it cannot resume; start a new upload"


async def append_held(
    request: Request,
    held: service.Held,
    c: Collaborators,
    user: User,
    upload_checksum: str | None,
) -> tuple[int, int | None]:
    settings, database, storage = c.settings, c.database, c.storage
    upload = held.upload
    store = resumable_store(storage, settings.s3_part_bytes)
    received = False
    try:
        checksum = parse_checksum(upload_checksum)
        progress = Progress.from_row(
            upload.backend_upload_id, upload.parts, upload.tail_key, upload.tail_bytes
        )
        appender = await store.open(upload.id, upload.key, upload.offset, progress)
        chunk = await receive_chunk(
            request, appender, held, settings, checksum,
            lambda: service.renew(database, settings, held),
        )  # fmt: skip
        received = True
    except ObjectMissing as exc:  # never a 503 the client would retry forever
        log.warning("upload %s cannot resume: %s", upload.id, exc)
        await service.terminate(database, store, upload)
        raise Gone(LOST) from exc
    finally:
        if not received:  # the lock is given back on any failure before the bytes are counted
            await service.release(database, held)
    if chunk.unsupported:
        await service.terminate(database, store, upload)
        assert chunk.error is not None
        raise chunk.error
    if chunk.progress is None:  # discarded: the offset stays where it was
        await service.release(database, held)
        assert chunk.error is not None
        raise _at_offset(chunk.error, upload.offset)
    try:
        video_id = await service.record(
            database,
            storage,
            c.publisher,
            settings,
            user,
            held,
            offset=chunk.offset,
            progress=chunk.progress,
            head=chunk.head,
            content_type=chunk.content_type,
        )
    except DomainError:
        if chunk.offset == upload.length:  # the job was refused (a quota): the bytes are
            await service.terminate(database, store, upload)  # assembled, so nothing resumes
        raise
    await _drop_superseded(store, upload.id, chunk.progress)
    if chunk.error is not None:  # the partial bytes are kept; the client resumes from them
        raise _at_offset(chunk.error, chunk.offset)
    return chunk.offset, video_id


async def _drop_superseded(store: ResumableStore, upload_id: str, progress: Progress) -> None:
    """Once recorded, the old state's objects go; failing that they stay under the upload's prefix
    (removed with it if it is terminated or expires) — the PATCH itself succeeded."""
    if not progress.superseded:
        return
    try:
        await store.drop_superseded(progress)
    except StorageError as exc:
        log.warning("upload %s: superseded objects left behind: %s", upload_id, exc)


def _at_offset(error: DomainError, offset: int) -> DomainError:
    """A failed PATCH (or creation-with-upload) still says where the upload stands, so a client
    resumes without a HEAD first."""
    error.headers = {**(error.headers or {}), "Upload-Offset": str(offset)}
    return error
