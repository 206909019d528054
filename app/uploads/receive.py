"""One PATCH's bytes into storage: paced like the multipart path, never past Upload-Length,
checksummed when asked, the container sniffed from the upload's first bytes. What arrived before
an interruption is kept (the client resumes from it) — unless a checksum was sent, which cannot be
checked on part of a chunk: then the chunk is discarded, as the checksum extension says."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from fastapi import Request
from starlette.requests import ClientDisconnect

from app.errors import BadRequest, DomainError, PayloadTooLarge
from app.uploads.protocol import CHECKSUM_ALGORITHMS, ChecksumMismatch
from app.uploads.service import Held, sniffed
from app.videos.pacing import receive_paced
from app.videos.sniff import SNIFF_BYTES
from core.settings import Settings
from core.storage.resumable import Appender, Progress

RENEW_EVERY_SECONDS = 10.0


@dataclass
class Chunk:
    """What one PATCH leaves behind: the new offset and storage progress, or nothing to record."""

    offset: int
    progress: Progress | None  # None: discard (nothing written counts)
    head: bytes
    content_type: str | None
    error: DomainError | None = None  # raised after the partial bytes are recorded
    unsupported: bool = False  # not a video: terminate the upload


async def receive_chunk(
    request: Request,
    appender: Appender,
    held: Held,
    settings: Settings,
    checksum: tuple[str, bytes] | None,
    renew: Callable[[], Awaitable[None]],
) -> Chunk:
    upload = held.upload
    remaining = upload.length - upload.offset
    head = bytearray(upload.head or b"")
    content_type = upload.content_type
    digest = CHECKSUM_ALGORITHMS[checksum[0]]() if checksum else None
    received = 0
    last_renewal = time.monotonic()

    async def on_chunk(data: bytes) -> None:
        nonlocal received, content_type, last_renewal
        if received + len(data) > remaining:
            raise PayloadTooLarge(f"The body goes past Upload-Length ({upload.length} bytes)")
        if content_type is None and len(head) < SNIFF_BYTES:
            head.extend(data[: SNIFF_BYTES - len(head)])
            content_type = sniffed(
                bytes(head), final=upload.offset + received + len(data) == upload.length
            )
        await appender.write(data)
        received += len(data)
        if digest is not None:
            digest.update(data)
        if time.monotonic() - last_renewal > RENEW_EVERY_SECONDS:
            await renew()
            last_renewal = time.monotonic()

    error: DomainError | None = None
    try:
        await receive_paced(request.stream(), settings, on_chunk)
    except ClientDisconnect:
        error = BadRequest("Upload interrupted by the client")
    except DomainError as exc:
        if exc.status_code == 415:
            return Chunk(upload.offset, None, bytes(head), None, exc, unsupported=True)
        if exc.status_code == 413:
            return Chunk(upload.offset, None, bytes(head), content_type, exc)
        error = exc  # 408: keep what arrived
    offset = upload.offset + received
    if digest is not None and checksum is not None:
        if error is not None:
            return Chunk(upload.offset, None, bytes(upload.head or b""), upload.content_type, error)
        if digest.digest() != checksum[1]:
            return Chunk(
                upload.offset,
                None,
                bytes(upload.head or b""),
                upload.content_type,
                ChecksumMismatch("Checksum mismatch: the chunk was discarded; send it again"),
            )
    final = offset == upload.length
    if final and content_type is None:  # the whole file is shorter than the sniffing window
        try:
            content_type = sniffed(bytes(head), final=True)
        except DomainError as exc:
            return Chunk(upload.offset, None, bytes(head), None, exc, unsupported=True)
    progress = await appender.close(final)
    return Chunk(offset, progress, bytes(head), content_type, error)
