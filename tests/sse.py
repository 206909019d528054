"""Reading a Server-Sent Events stream line by line, as the spec frames it: events (id, data)
and comments (the heartbeat), in arrival order, with the time each arrived."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx


@dataclass
class Frame:
    kind: str  # "event" or "comment"
    at: float
    id: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    text: str = ""


def frames(response: httpx.Response) -> Iterator[Frame]:
    event_id, data = None, []
    for line in response.iter_lines():
        if line.startswith(":"):
            yield Frame("comment", time.monotonic(), text=line[1:].strip())
        elif line.startswith("id:"):
            event_id = line[3:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].strip())
        elif line == "" and data:
            yield Frame("event", time.monotonic(), event_id, json.loads("\n".join(data)))
            event_id, data = None, []


def follow(
    client: httpx.Client, path: str, headers: dict[str, str], until: float = 120
) -> list[Frame]:
    """Every frame until the server ends the stream (fails after `until` seconds)."""
    got: list[Frame] = []
    deadline = time.monotonic() + until
    with client.stream("GET", path, headers=headers, timeout=httpx.Timeout(until)) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        for frame in frames(response):
            got.append(frame)
            assert time.monotonic() < deadline, f"the stream did not end: {got[-5:]}"
    return got
