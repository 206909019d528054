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

SPOOL = os.environ.get("BARE_SPOOL_DIR", tempfile.gettempdir())


async def upload(request: Request) -> JSONResponse:
    path = os.path.join(SPOOL, f"bare-{uuid.uuid4().hex}")
    async with await anyio.open_file(path, "wb") as out:
        async for chunk in request.stream():
            await out.write(chunk)
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
