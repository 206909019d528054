"""Serves app/web/static at /app/ from the API (`make run`; nginx serves the same folder in the
stack): gzip, the security headers of app/web/policy.py, index.html for /app/."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from starlette.middleware.gzip import GZipMiddleware
from starlette.responses import RedirectResponse
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.web.policy import security_headers
from core.settings import Settings

STATIC = Path(__file__).resolve().parent / "static"
VENDOR = STATIC / "vendor"
PREFIX = "/app"


class _WithHeaders:
    def __init__(self, app: ASGIApp, headers: dict[str, str]) -> None:
        self.app = app
        self.headers = [(k.lower().encode(), v.encode()) for k, v in headers.items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *self.headers]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def install_web(app: FastAPI, settings: Settings) -> None:
    files = StaticFiles(directory=STATIC, html=True, check_dir=False)
    app.mount(
        PREFIX, _WithHeaders(GZipMiddleware(files, minimum_size=512), security_headers(settings))
    )

    @app.get("/app", include_in_schema=False)
    async def web_client() -> RedirectResponse:
        return RedirectResponse(f"{PREFIX}/", status_code=308)
