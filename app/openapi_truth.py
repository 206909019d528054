"""What the generated OpenAPI document cannot say by itself, said after generation:

- tus: `Tus-Resumable` on every request but OPTIONS, `Upload-Length` on creation and
  `Upload-Offset` on PATCH are required, and a PATCH body is `application/offset+octet-stream`.
  The routes read them as optional headers (a missing one answers the protocol's 412 or a 400
  with a `detail`, not FastAPI's 422), so the document is told here.
- Live events: each Server-Sent Event's `data` is a JSON object of a known shape (OpenAPI 3.2's
  `itemSchema`, with `contentMediaType` and `contentSchema`), not a plain string.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from app.uploads.protocol import OFFSET_CONTENT_TYPE
from core.models import PublicStatus

TUS_REQUIRED = {
    ("post", "/api/uploads"): ("Tus-Resumable", "Upload-Length"),
    ("head", "/api/uploads/{upload_id}"): ("Tus-Resumable",),
    ("patch", "/api/uploads/{upload_id}"): ("Tus-Resumable", "Upload-Offset"),
    ("delete", "/api/uploads/{upload_id}"): ("Tus-Resumable",),
}
EVENTS_PATH = "/api/videos/{video_id}/events"

_NULLABLE_INT = {"type": ["integer", "null"]}
LIVE_EVENT_DATA: dict[str, Any] = {
    "type": "object",
    "required": ["status", "progress", "queue_position", "eta_seconds", "error"],
    "additionalProperties": False,
    "properties": {
        "status": {"type": "string", "enum": [s.value for s in PublicStatus]},
        "progress": {"type": "integer", "minimum": 0, "maximum": 100},
        "queue_position": {**_NULLABLE_INT, "description": "1 = next; null unless queued"},
        "eta_seconds": {**_NULLABLE_INT, "description": "Seconds until processed, if measurable"},
        "error": {"type": ["string", "null"], "description": "Why it failed (status failed)"},
    },
}
LIVE_EVENT: dict[str, Any] = {
    "type": "object",
    "required": ["data", "id"],
    "properties": {
        "id": {"type": "string", "description": "Send as Last-Event-ID to resume"},
        "event": {"type": "string"},
        "retry": {"type": "integer"},
        "data": {
            "type": "string",
            "contentMediaType": "application/json",
            "contentSchema": LIVE_EVENT_DATA,
        },
    },
}


def _truthful(document: dict[str, Any]) -> dict[str, Any]:
    paths = document["paths"]
    for (method, path), names in TUS_REQUIRED.items():
        operation = paths[path][method]
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "header" and parameter["name"] in names:
                parameter["required"] = True
                schema = parameter.get("schema", {})
                if "anyOf" in schema:  # `str | None` in the signature: a string when required
                    parameter["schema"] = {k: v for k, v in schema.items() if k != "anyOf"}
                    parameter["schema"]["type"] = "string"
                if parameter["name"] in ("Upload-Length", "Upload-Offset"):
                    parameter["schema"]["pattern"] = "^[0-9]{1,19}$"
        if method == "patch":
            binary = {"schema": {"type": "string", "format": "binary"}}
            operation["requestBody"] = {"required": True, "content": {OFFSET_CONTENT_TYPE: binary}}
    content = paths[EVENTS_PATH]["get"]["responses"]["200"]["content"]["text/event-stream"]
    content.pop("schema", None)
    content["itemSchema"] = LIVE_EVENT
    return document


def install_truthful_openapi(app: FastAPI) -> None:
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _truthful(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
