"""The request id of the work in hand, carried nginx → API → Celery headers → worker logs.

Only the context variable lives here; the API's ASGI middleware sets it per request and the
worker's task signals set it per task.
"""

from __future__ import annotations

from contextvars import ContextVar

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)


def current_request_id() -> str | None:
    return request_id_var.get()
