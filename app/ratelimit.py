"""App-level rate limits (slowapi). Counters live in Redis so every gunicorn worker shares them.

Key: the user id when the request carries a valid token, else the client IP that the trusted
proxy (nginx) put in X-Forwarded-For; uvicorn only honours that header from FORWARDED_ALLOW_IPS.

If the counter store is unreachable the limiter falls back to per-process in-memory counters
(`in_memory_fallback_enabled`): limits keep applying, per process, instead of failing requests.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import anyio
from fastapi import Request
from fastapi.responses import JSONResponse
from slowapi import Limiter
from slowapi.errors import RateLimitExceeded

from app.auth.security import decode_access_token
from app.metrics import RATE_LIMITED
from app.settings import Settings, get_settings

F = TypeVar("F", bound=Callable[..., Any])


def rate_limit_key(request: Request) -> str:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        user_id = decode_access_token(header[7:].strip(), get_settings())
        if user_id is not None:
            return f"user:{user_id}"
    return f"ip:{request.client.host if request.client else 'unknown'}"


def storage_uri(settings: Settings) -> str:
    if settings.rate_limit_storage_uri:
        return settings.rate_limit_storage_uri
    if settings.celery_broker_url.startswith("redis"):
        return settings.celery_broker_url
    return "memory://"


def make_limiter(settings: Settings) -> Limiter:
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


limiter = make_limiter(get_settings())


def limit(provider: Callable[[], str]) -> Callable[[F], F]:
    """Give a route its own limit instead of the default one. slowapi records it by the function's
    name; the check itself runs in `enforce_rate_limit` (off the event loop), so the route keeps
    its plain function rather than slowapi's wrapper, which would call Redis on the loop."""

    def register(fn: F) -> F:
        limiter.limit(provider)(fn)
        return fn

    return register


def exempt(fn: F) -> F:
    limiter.exempt(fn)
    return fn


async def enforce_rate_limit(request: Request) -> None:
    """App-wide dependency: the route's own limit, else the default limit; 429 when exceeded."""
    endpoint = getattr(request.scope.get("route"), "endpoint", None)
    if endpoint is None or not limiter.enabled:
        return
    await anyio.to_thread.run_sync(limiter._check_request_limit, request, endpoint, False)


def upload_limit() -> str:
    return get_settings().rate_limit_upload


def auth_limit() -> str:
    return get_settings().rate_limit_auth


async def rate_limit_exceeded(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RateLimitExceeded)
    RATE_LIMITED.inc()
    response = JSONResponse(
        {"detail": f"Too many requests: limit is {exc.detail}. Retry later."}, status_code=429
    )
    response = request.app.state.limiter._inject_headers(response, request.state.view_rate_limit)
    response.headers.setdefault("Retry-After", "1")
    return response
