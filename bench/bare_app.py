"""The bare baseline for `make bench`: the least an upload endpoint can do — stream the body to
disk and answer 202 — served by the same gunicorn config behind the same nginx config.

Its auth routes accept anything, so the same locustfile drives both targets."""

from __future__ import annotations

import os
import tempfile
import uuid

import anyio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from core.storage.base import WRITE_BUFFER_BYTES

SPOOL = os.environ.get("BARE_SPOOL_DIR", tempfile.gettempdir())


async def upload(request: Request) -> JSONResponse:
    """The body to disk with reelforge's own write pattern (one thread hop per
    WRITE_BUFFER_BYTES, not per network chunk): a baseline that wrote less efficiently than
    reelforge would flatter every ratio — it did, 1.13–1.28 at 100 users, before this."""
    path = os.path.join(SPOOL, f"bare-{uuid.uuid4().hex}")
    out = await anyio.to_thread.run_sync(open, path, "wb")
    try:
        buffer = bytearray()
        async for chunk in request.stream():
            buffer += chunk
            if len(buffer) >= WRITE_BUFFER_BYTES:
                data, buffer = buffer, bytearray()
                await anyio.to_thread.run_sync(out.write, data)
        await anyio.to_thread.run_sync(out.write, buffer)
    finally:
        await anyio.to_thread.run_sync(out.close)
    await anyio.Path(path).unlink()
    return JSONResponse({"task_id": uuid.uuid4().hex, "status": "queued"}, status_code=202)


async def signup(_: Request) -> JSONResponse:
    return JSONResponse({"id": 1}, status_code=201)


async def login(_: Request) -> JSONResponse:
    return JSONResponse({"access_token": "bare", "token_type": "bearer", "expires_in": 3600})


async def health(_: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


app = Starlette(
    routes=[
        Route("/api/videos/upload", upload, methods=["POST"]),
        Route("/api/auth/signup", signup, methods=["POST"]),
        Route("/api/auth/login", login, methods=["POST"]),
        Route("/health", health),
    ]
)
