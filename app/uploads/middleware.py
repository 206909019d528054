"""`Tus-Resumable: 1.0.0` on every response under /api/uploads — errors included, which the
protocol requires and generic clients check."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.uploads.protocol import TUS_VERSION

PREFIX = "/api/uploads"


class TusResumableMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not (path == PREFIX or path.startswith(PREFIX + "/")):
            await self.app(scope, receive, send)
            return

        async def send_with_version(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"tus-resumable", TUS_VERSION.encode())]
            await send(message)

        await self.app(scope, receive, send_with_version)
