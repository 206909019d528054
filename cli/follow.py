"""Following a job until it is processed or failed: the server's event stream (SSE), reconnected
with Last-Event-ID when it drops, or polling GET /api/videos/{id} once a second when the server
has no stream (404/405 on the route) or it cannot be opened."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
from httpx_sse import SSEError, connect_sse

from cli.session import CliError, Session, detail_of

TERMINAL = ("processed", "failed", "deleted")
POLL_SECONDS = 1.0
State = dict[str, Any]


def _stream(http: httpx.Client, video_id: int, last_id: list[str]) -> Iterator[State]:
    headers = {"Last-Event-ID": last_id[0]} if last_id else {}
    timeout = httpx.Timeout(60.0)  # above the server's 15 s heartbeat
    with connect_sse(
        http, "GET", f"/api/videos/{video_id}/events", headers=headers, timeout=timeout
    ) as source:
        response = source.response
        if response.status_code >= 400:
            response.read()  # a streamed body must be read before its text is looked at
            if response.status_code in (404, 405) and "Video not found" not in response.text:
                raise SSEError("no event stream on this server")
            raise CliError(detail_of(response))
        for event in source.iter_sse():
            if event.id:
                last_id[:] = [event.id]
            yield json.loads(event.data)


def _poll(http: httpx.Client, video_id: int) -> Iterator[State]:
    while True:
        response = http.get(f"/api/videos/{video_id}")
        if response.status_code >= 400:
            raise CliError(detail_of(response))
        yield response.json()
        time.sleep(POLL_SECONDS)


def follow(session: Session, video_id: int, on_state: Callable[[State], None]) -> State:
    """Call `on_state` on every change; return the terminal state."""
    last_id: list[str] = []
    with session.client() as http:
        use_stream = True
        while True:
            try:
                states = _stream(http, video_id, last_id) if use_stream else _poll(http, video_id)
                for state in states:
                    on_state(state)
                    if state["status"] in TERMINAL:
                        return state
                # the stream ended without a terminal state (a restart): reconnect
            except SSEError:
                use_stream = False
            except httpx.TransportError:
                time.sleep(POLL_SECONDS)  # the server restarts or the network blips: again
