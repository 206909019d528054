"""HTTP hygiene for every response: `X-Content-Type-Options: nosniff`; paths with a trailing
slash served as the same route (except under the web client's folder, /app/) — never a redirect,
whose absolute URL would be built from whatever Host header the client sent; and a 405 whose
`Allow` lists every method of the path (Starlette's names only the first route that matched it)."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

NOSNIFF = (b"x-content-type-options", b"nosniff")
STATIC_PREFIX = "/app/"  # the web client's folder: "/app/" is its index, as in any web server


class HygieneMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if len(path) > 1 and path.endswith("/") and not path.startswith(STATIC_PREFIX):
            scope = {**scope, "path": path.rstrip("/") or "/"}
            scope.pop("raw_path", None)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), NOSNIFF]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def install_method_not_allowed(app: FastAPI, routers: list[APIRouter]) -> None:
    from fastapi.exception_handlers import http_exception_handler

    routes = [route for router in routers for route in router.routes]

    async def handler(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        if exc.status_code != 405:
            return await http_exception_handler(request, exc)  # type: ignore[return-value]
        allowed: set[str] = set()
        for route in routes:
            match, _ = route.matches({**request.scope, "method": "GET"})
            if match != Match.NONE:
                allowed |= set(getattr(route, "methods", None) or ())
        return JSONResponse(
            {"detail": "Method Not Allowed"},
            status_code=405,
            headers={"Allow": ", ".join(sorted(allowed))},
        )

    app.add_exception_handler(StarletteHTTPException, handler)
