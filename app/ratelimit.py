"""App-level rate limits (slowapi). Counters live in Redis so every gunicorn worker shares them.

Key: the user id when the request carries a valid token, else the client IP that the trusted
proxy (nginx) put in X-Forwarded-For; uvicorn only honours that header from FORWARDED_ALLOW_IPS.

If the counter store is unreachable the limiter falls back to per-process in-memory counters
(`in_memory_fallback_enabled`): limits keep applying, per process, instead of failing requests.

Routes are only marked here (`@limit("upload")`, `@exempt`); `install_rate_limits` builds the
limiter from the app's settings and registers the marks, so no limiter exists at import time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, TypeVar

import anyio
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from prometheus_client import Counter
from slowapi import Limiter
from slowapi.errors import RateLimitExceeded

from app.auth.cookies import cookie_token
from app.auth.security import decode_access_token
from core.settings import Settings

F = TypeVar("F", bound=Callable[..., Any])
RouteLimit = Literal["upload", "tus", "auth", "exempt"]
_MARK = "__reelforge_rate_limit__"
RATE_LIMITED = Counter("reelforge_rate_limited_total", "Requests refused by the app rate limiter")


def limit(kind: RouteLimit) -> Callable[[F], F]:
    """Give a route its own limit (RATE_LIMIT_UPLOAD / RATE_LIMIT_AUTH) instead of the default."""

    def mark(fn: F) -> F:
        setattr(fn, _MARK, kind)
        return fn

    return mark


def exempt(fn: F) -> F:
    return limit("exempt")(fn)


def storage_uri(settings: Settings) -> str:
    if settings.rate_limit_storage_uri:
        return settings.rate_limit_storage_uri
    if settings.celery_broker_url.startswith("redis"):
        return settings.celery_broker_url
    return "memory://"


def client_ip_key(request: Request) -> str:
    return f"ip:{request.client.host if request.client else 'unknown'}"


def make_limiter(settings: Settings) -> Limiter:
    def rate_limit_key(request: Request) -> str:
        token = cookie_token(request)
        if token is not None:
            user_id = decode_access_token(token, settings)
            if user_id is not None:
                return f"user:{user_id}"
        return client_ip_key(request)

    uri = storage_uri(settings)
    options: dict[str, Any] = (
        {"socket_timeout": 0.5, "socket_connect_timeout": 0.5} if uri.startswith("redis") else {}
    )
    return Limiter(
        key_func=rate_limit_key,
        default_limits=[settings.rate_limit_default],
        storage_uri=uri,
        storage_options=options,
        headers_enabled=True,
        in_memory_fallback_enabled=True,
        swallow_errors=True,
        enabled=settings.rate_limit_enabled,
        key_prefix="reelforge-rl",
    )


def install_rate_limits(app: FastAPI, settings: Settings, routers: list[APIRouter]) -> None:
    """Build the limiter and register every route's mark. slowapi records limits by the
    function's name; the check itself runs in `enforce_rate_limit` (off the event loop), so the
    route keeps its plain function rather than slowapi's wrapper, which would call Redis on the
    loop. (FastAPI ≥ 0.16x nests included routers, so the routers are walked, not app.routes.)"""
    limiter = make_limiter(settings)
    values = {"upload": settings.rate_limit_upload, "tus": settings.rate_limit_tus,
              "auth": settings.rate_limit_auth}  # fmt: skip
    for route in (route for router in routers for route in router.routes):
        kind = getattr(getattr(route, "endpoint", None), _MARK, None)
        if not isinstance(route, APIRoute) or kind is None:
            continue
        if kind == "exempt":
            limiter.exempt(route.endpoint)
        elif kind == "auth":  # by client IP only: a token must not buy more guesses
            limiter.limit(values[kind], key_func=client_ip_key)(route.endpoint)
        else:
            limiter.limit(values[kind])(route.endpoint)
    app.state.limiter = limiter
    app.add_exception_handler(RateLimitExceeded, rate_limit_exceeded)


async def enforce_rate_limit(request: Request) -> None:
    """App-wide dependency: the route's own limit, else the default limit; 429 when exceeded."""
    limiter: Limiter = request.app.state.limiter
    endpoint = getattr(request.scope.get("route"), "endpoint", None)
    if endpoint is None or not limiter.enabled:
        return
    await anyio.to_thread.run_sync(limiter._check_request_limit, request, endpoint, False)


async def rate_limit_exceeded(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RateLimitExceeded)
    RATE_LIMITED.inc()
    response = JSONResponse(
        {"detail": f"Too many requests: limit is {exc.detail}. Retry later."}, status_code=429
    )
    # slowapi reads the window (a blocking Redis call) for the X-RateLimit-* headers: off the loop.
    inject = request.app.state.limiter._inject_headers
    response = await anyio.to_thread.run_sync(inject, response, request.state.view_rate_limit)
    response.headers.setdefault("Retry-After", "1")
    return response
