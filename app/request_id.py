"""ASGI middleware: accept nginx's X-Request-ID (or make one) and put it in the context."""

from __future__ import annotations

import re
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.request_id import request_id_var

HEADER = "x-request-id"
_VALID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def accept_or_generate(value: str | None) -> str:
    """Keep a well-formed id from upstream (nginx sets one); never trust a malformed one."""
    return value if value and _VALID.match(value) else uuid.uuid4().hex


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(HEADER.encode())
        rid = accept_or_generate(incoming.decode("latin-1") if incoming else None)
        token = request_id_var.set(rid)
        scope.setdefault("state", {})["request_id"] = rid  # for handlers outside this middleware

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (k, v) for k, v in message.get("headers", []) if k.lower() != HEADER.encode()
                ]
                message["headers"] = [*headers, (HEADER.encode(), rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_id_var.reset(token)
