"""The floor for `make bench`: the least an upload endpoint can do and still do the work the
multipart target is asked for — the bearer token verified, the multipart body parsed with the
same parser (python-multipart) and streamed to disk with the bare endpoint's write pattern, the
file kept for the worker as reelforge keeps it (its own folder, a temporary name renamed on
completion, so no reader sees half a file), one row inserted (raw asyncpg, autocommit), the
Celery message published — and nothing else: no framework routing, middleware, rate limit,
sniffing, quotas, ORM or response model. The benchmark's janitor deletes kept files, as it
does reelforge's (bench/web.py).

It answers "how close to the bare endpoint can *any* implementation with that work get on this
machine?", and so how much of reelforge's gap is its own. It shares reelforge's Postgres, Redis
and JWT secret (the same tokens work)."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import BinaryIO

import anyio
import asyncpg
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from app.auth.security import decode_access_token
from core.jobs.dispatch import JobPublisher, process_video_message
from core.settings import Settings
from core.storage.base import WRITE_BUFFER_BYTES, original_key

SETTINGS = Settings()
STORE = str(SETTINGS.resolved_storage_dir)
PUBLISHER = JobPublisher(SETTINGS, "reelforge-floor")
INSERT = """
INSERT INTO video (owner_id, title, status, progress, task_id, attempts, original_key,
                   original_content_type, original_bytes, published, priority, uploaded_at,
                   enqueued_at)
VALUES ($1, $2, 'queued', 0, $3, 0, $4, 'video/mp4', $5, false, 1, $6, $6) RETURNING id
"""


@contextlib.asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    dsn = SETTINGS.database_url.replace("postgresql+asyncpg://", "postgresql://")
    async with asyncpg.create_pool(dsn, min_size=2, max_size=20) as pool:
        app.state.pool = pool
        yield


def _open_part(path: str) -> BinaryIO:
    """The kept file's temporary sibling, in the upload's own folder (as reelforge's storage)."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    return open(f"{path}.{uuid.uuid4().hex}.part", "wb")  # noqa: SIM115 - closed by the caller


class _Form:
    """The file part to disk (one thread hop per WRITE_BUFFER_BYTES), the title kept."""

    def __init__(self) -> None:
        self.name, self.size = b"", 0
        self.header, self.title, self.buffer = bytearray(), bytearray(), bytearray()
        self.pending: list[bytearray] = []  # full buffers, for the next thread hop

    def callbacks(self) -> dict[str, object]:
        return {
            "on_header_value": lambda d, s, e: self.header.extend(d[s:e]),
            "on_header_end": self._header_end,
            "on_part_data": self._data,
        }

    def _header_end(self) -> None:
        if b'name="' in self.header:
            self.name = bytes(self.header).split(b'name="', 1)[1].split(b'"', 1)[0]
        self.header.clear()

    def _data(self, data: bytes, start: int, end: int) -> None:
        if self.name == b"title":
            self.title += data[start:end]
            return
        self.buffer += memoryview(data)[start:end]
        self.size += end - start
        if len(self.buffer) >= WRITE_BUFFER_BYTES:
            self.pending.append(self.buffer)
            self.buffer = bytearray()


async def upload(request: Request) -> JSONResponse:
    user_id = decode_access_token(request.headers.get("authorization", "")[7:], SETTINGS)
    if user_id is None:
        return JSONResponse({"detail": "Not authenticated"}, status_code=401)
    _, params = parse_options_header(request.headers.get("content-type", ""))
    key = original_key(uuid.uuid4().hex)
    path = os.path.join(STORE, key)
    out = await anyio.to_thread.run_sync(_open_part, path)
    form = _Form()
    parser = MultipartParser(params[b"boundary"], form.callbacks())  # type: ignore[arg-type]
    try:
        async for chunk in request.stream():
            parser.write(chunk)
            for data in form.pending:
                await anyio.to_thread.run_sync(out.write, data)
            form.pending.clear()
        parser.finalize()
        await anyio.to_thread.run_sync(out.write, form.buffer)
    finally:
        await anyio.to_thread.run_sync(out.close)
    await anyio.to_thread.run_sync(os.replace, out.name, path)
    task_id = str(uuid.uuid4())
    video_id = await request.app.state.pool.fetchval(
        INSERT, user_id, form.title.decode(), task_id, key, form.size, datetime.now(UTC)
    )
    await anyio.to_thread.run_sync(PUBLISHER.send, process_video_message(video_id, task_id))
    return JSONResponse({"task_id": task_id, "status": "queued"}, status_code=202)


async def health(_: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


app = Starlette(
    routes=[
        Route("/api/videos/upload", upload, methods=["POST"]),
        Route("/health", health),
    ],
    lifespan=lifespan,
)
