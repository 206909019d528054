"""The OpenAPI document says what clients must send and what they get (app/openapi_truth.py):
tus's headers are required, a PATCH body is application/offset+octet-stream, and each live event's
`data` is a JSON object of a known shape — the events the API really sends validate against it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import jsonschema_rs

from app.main import create_app
from app.videos.live import LiveState, live_events
from core.settings import Settings


def _document() -> dict[str, Any]:
    return create_app(Settings(environment="dev")).openapi()


def _required_headers(operation: dict[str, Any]) -> set[str]:
    return {p["name"] for p in operation["parameters"] if p["in"] == "header" and p["required"]}


def test_tus_headers_and_the_patch_body_are_required() -> None:
    paths = _document()["paths"]
    assert {"Tus-Resumable", "Upload-Length"} <= _required_headers(paths["/api/uploads"]["post"])
    upload = paths["/api/uploads/{upload_id}"]
    assert {"Tus-Resumable", "Upload-Offset"} <= _required_headers(upload["patch"])
    assert "Tus-Resumable" in _required_headers(upload["head"])
    assert "Tus-Resumable" in _required_headers(upload["delete"])
    body = upload["patch"]["requestBody"]
    assert body["required"] and list(body["content"]) == ["application/offset+octet-stream"]


async def _sent(states: list[LiveState]) -> list[Any]:
    async def source() -> AsyncIterator[LiveState]:
        for state in states:
            yield state

    return [event async for event in live_events(source())]


def test_the_live_events_the_api_sends_match_their_schema() -> None:
    content = _document()["paths"]["/api/videos/{video_id}/events"]["get"]["responses"]["200"]
    item = content["content"]["text/event-stream"]["itemSchema"]
    data_schema = jsonschema_rs.validator_for(item["properties"]["data"]["contentSchema"])
    states = [
        LiveState(status="queued", progress=0, queue_position=3, eta_seconds=40, error=None),
        LiveState(status="processing", progress=42, queue_position=None, eta_seconds=9, error=None),
        LiveState(status="failed", progress=0, queue_position=None, eta_seconds=None,
                  error="The file is not a video we can read"),
    ]  # fmt: skip
    for event in asyncio.run(_sent(states)):
        assert event.id and data_schema.is_valid(json.loads(event.data)), event.data
    assert not data_schema.is_valid({"status": "queued"})  # a missing field is caught
