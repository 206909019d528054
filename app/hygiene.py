"""HTTP hygiene for every response: `X-Content-Type-Options: nosniff`, and paths with a
trailing slash served as the same route — never a redirect, whose absolute URL would be built
from whatever Host header the client sent."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

NOSNIFF = (b"x-content-type-options", b"nosniff")


class HygieneMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if len(path) > 1 and path.endswith("/"):
            scope = {**scope, "path": path.rstrip("/") or "/"}
            scope.pop("raw_path", None)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), NOSNIFF]
            await send(message)

        await self.app(scope, receive, send_with_headers)
