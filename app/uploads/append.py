"""One PATCH's bytes, once its hold is taken (service.hold): received into storage, then recorded
— or the hold given back, a non-video terminated, a refused job's assembled bytes dropped. Shared
by PATCH and creation-with-upload; a failure still says the upload's offset."""

from __future__ import annotations

from fastapi import Request

from app.collaborators import Collaborators
from app.errors import DomainError
from app.uploads import service
from app.uploads.protocol import parse_checksum
from app.uploads.receive import receive_chunk
from core.models import User
from core.storage.resumable import Progress, resumable_store


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
    if chunk.error is not None:  # the partial bytes are kept; the client resumes from them
        raise _at_offset(chunk.error, chunk.offset)
    return chunk.offset, video_id


def _at_offset(error: DomainError, offset: int) -> DomainError:
    """A failed PATCH (or creation-with-upload) still says where the upload stands, so a client
    resumes without a HEAD first."""
    error.headers = {**(error.headers or {}), "Upload-Offset": str(offset)}
    return error
