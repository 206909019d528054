"""Domain errors carry their HTTP status and a human message; one handler renders them."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from core.request_id import current_request_id

log = logging.getLogger(__name__)


class DomainError(Exception):
    status_code = 400

    def __init__(self, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers


class BadRequest(DomainError):
    status_code = 400


class Unauthorized(DomainError):
    status_code = 401

    def __init__(self, detail: str = "Could not validate credentials") -> None:
        super().__init__(detail, headers={"WWW-Authenticate": "Bearer"})


class Forbidden(DomainError):
    status_code = 403


class NotFound(DomainError):
    status_code = 404


class Conflict(DomainError):
    status_code = 409


class RequestTimeout(DomainError):
    status_code = 408

    def __init__(self, detail: str) -> None:
        super().__init__(detail, headers={"Connection": "close"})


class PayloadTooLarge(DomainError):
    status_code = 413


class UnsupportedMedia(DomainError):
    status_code = 415


class TooManyRequests(DomainError):
    status_code = 429


class ServiceUnavailable(DomainError):
    status_code = 503


async def _domain_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)


def _unavailable(
    what: str, retry_after: int
) -> Callable[[Request, Exception], Awaitable[JSONResponse]]:
    """A backing service failed: 503 with Retry-After, never a 500."""

    async def handler(request: Request, exc: Exception) -> JSONResponse:
        # The class says which limit was hit (the pool's wait, the driver's connect or command
        # timeout); the message never carries values (hide_parameters).
        log.warning(
            "%s unavailable: %s.%s during %s %s",
            what.lower(),
            type(exc).__module__,
            type(exc).__name__,
            request.method,
            request.url.path,
        )
        return JSONResponse(
            {"detail": f"{what} temporarily unavailable, retry shortly"},
            status_code=503,
            headers={"Retry-After": str(retry_after)},
        )

    return handler


def _request_id(request: Request) -> str | None:
    return getattr(request.state, "request_id", None) or current_request_id()


async def _invalid_request(_request: Request, exc: Exception) -> JSONResponse:
    """422 with where and why — never the rejected input itself (it may be huge, binary, or not
    serialisable at all)."""
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": str(e.get("type"))}
        for e in exc.errors()
    ]
    return JSONResponse({"detail": errors}, status_code=422)


async def _internal_error(request: Request, exc: Exception) -> JSONResponse:
    """The truly unexpected: logged with its traceback, answered as JSON with the request id."""
    rid = _request_id(request)
    log.error("unhandled %s", type(exc).__name__, exc_info=exc)
    return JSONResponse(
        {"detail": "Internal server error; report the request id", "request_id": rid},
        status_code=500,
        headers={"X-Request-ID": rid} if rid else None,
    )


Handler = Callable[[Request, Exception], Awaitable[JSONResponse]]


def _database_error(unavailable: Handler) -> Handler:
    """A value the database refused is the request's fault (400; a conflict 409) — never
    "database unavailable". Everything else from the driver (refused or dropped connections,
    a server starting up or shutting down, timeouts) is 503 with Retry-After."""

    async def handler(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, DBAPIError)
        if isinstance(exc, IntegrityError):
            return JSONResponse({"detail": "Conflicts with existing data"}, status_code=409)
        if isinstance(exc, DataError) or isinstance(exc.orig, ValueError):
            return JSONResponse({"detail": "A value is out of range or malformed"}, 400)
        return await unavailable(request, exc)

    return handler


async def _unknown_profile(_request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": str(exc)}, status_code=400)


def install_error_handlers(app: FastAPI) -> None:
    from core.profiles import UnknownProfile
    from core.storage import StorageError

    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(UnknownProfile, _unknown_profile)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    database_unavailable = _unavailable("Database", retry_after=2)
    app.add_exception_handler(DBAPIError, _database_error(database_unavailable))
    # The driver can also raise plain OS errors while (re)connecting: refused, reset, timed out.
    for error in (PoolTimeoutError, ConnectionError, OSError, TimeoutError):
        app.add_exception_handler(error, database_unavailable)
    app.add_exception_handler(StorageError, _unavailable("Storage", retry_after=5))
    app.add_exception_handler(Exception, _internal_error)
