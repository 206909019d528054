"""Domain errors carry their HTTP status and a human message; one handler renders them."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

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


class PayloadTooLarge(DomainError):
    status_code = 413


class UnsupportedMedia(DomainError):
    status_code = 415


class ServiceUnavailable(DomainError):
    status_code = 503


async def _domain_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)


def _unavailable(
    what: str, retry_after: int
) -> Callable[[Request, Exception], Awaitable[JSONResponse]]:
    """A backing service failed: 503 with Retry-After, never a 500."""

    async def handler(_request: Request, exc: Exception) -> JSONResponse:
        log.warning("%s unavailable: %s", what.lower(), exc)
        return JSONResponse(
            {"detail": f"{what} temporarily unavailable, retry shortly"},
            status_code=503,
            headers={"Retry-After": str(retry_after)},
        )

    return handler


def install_error_handlers(app: FastAPI) -> None:
    from core.storage import StorageError

    app.add_exception_handler(DomainError, _domain_error)
    database_unavailable = _unavailable("Database", retry_after=2)
    for error in (DBAPIError, PoolTimeoutError, ConnectionError):
        app.add_exception_handler(error, database_unavailable)
    app.add_exception_handler(StorageError, _unavailable("Storage", retry_after=5))
