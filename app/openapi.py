"""What the OpenAPI document says beyond the routes' own models: one error schema for every
error a route can give, the headers clients rely on, and the codes every route may answer
(429 from the rate limiter, 503 when a backing service is down, 500 for the unexpected)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ErrorOut(BaseModel):
    """Every error body: `{"detail": "..."}` — a human sentence, never the raw input."""

    detail: str


class ValidationIssue(BaseModel):
    loc: list[str | int] = Field(description="Where: body/query/path/header, then the field")
    msg: str
    type: str


class ValidationErrorOut(BaseModel):
    """422: which fields failed and why — never the rejected input itself."""

    detail: list[ValidationIssue]


class InternalErrorOut(ErrorOut):
    request_id: str | None = Field(description="Quote it when reporting the problem")


_INT = {"type": "integer"}
_STR = {"type": "string"}
RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before retrying", "schema": _INT}}
TOTAL_COUNT = {"X-Total-Count": {"description": "Rows in the whole list", "schema": _INT}}
NEXT_CURSOR_HEADER = {
    "X-Next-Cursor": {
        "description": "Pass as ?cursor= for the next page (absent on the last page)",
        "schema": _STR,
    }
}
LOCATION = {"Location": {"description": "Where to follow the job", "schema": _STR}}

_WHY = {
    400: "Bad request",
    401: "Missing, invalid or expired token",
    403: "Not the owner",
    404: "Not found",
    408: "The upload was too slow or took too long",
    409: "Conflicts with the video's state (tus: Upload-Offset is not the upload's offset)",
    410: "The resumable upload expired",
    412: "tus: Tus-Resumable is not 1.0.0 (Tus-Version lists what is)",
    413: "Larger than MAX_UPLOAD_BYTES",
    415: "Not an MP4, MOV, MKV, WebM or AVI video",
    422: "A field failed validation",
    423: "tus: another request is writing to this upload",
    429: "Rate limit or quota reached",
    460: "tus: Upload-Checksum does not match the chunk (discarded)",
    500: "Unexpected error",
    503: "A backing service is unavailable, or the server is at capacity",
    507: "Not enough storage, or the user's storage quota is used up",
}
_RETRY_CODES = {429, 503, 507}


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` entries for these error codes, each with the error schema."""
    out: dict[int | str, dict[str, Any]] = {}
    for code in codes:
        model = ValidationErrorOut if code == 422 else ErrorOut
        entry: dict[str, Any] = {"model": model, "description": _WHY[code]}
        if code in _RETRY_CODES:
            entry["headers"] = RETRY_AFTER
        out[code] = entry
    return out


def everywhere() -> dict[int | str, dict[str, Any]]:
    """Codes any route may answer: the app's own limiter, a backing service down, a bug."""
    common = errors(422, 429, 503)  # 422 here replaces FastAPI's schema (it has `input: Any`)
    common[500] = {"model": InternalErrorOut, "description": _WHY[500]}
    return common


def with_headers(model: Any, headers: dict[str, Any], description: str = "") -> dict[str, Any]:
    entry: dict[str, Any] = {"headers": headers, "description": description or "Success"}
    if model is not None:
        entry["model"] = model
    return entry
