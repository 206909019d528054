"""Live progress over Server-Sent Events and the queue position / ETA fields, through real
processes: Redis pub/sub on the Postgres + Redis stack, the bounded poll on the embedded
default (SQLite, no pub/sub), with the heartbeat, Last-Event-ID and the owner-only rule."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from devstack.services import Services
from devstack.stack import Stack
from tests.api_client import Api
from tests.conftest import TEST_SETTINGS
from tests.sse import Frame, follow, frames

ORDER = {"queued": 0, "processing": 1, "processed": 2, "failed": 2}


def _events(got: list[Frame]) -> list[dict]:  # type: ignore[type-arg]
    return [f.data for f in got if f.kind == "event"]


def test_a_stream_follows_the_job_to_processed_then_ends(pg_stack: Stack, clip_5s: Path) -> None:
    api = Api(pg_stack.base_url)
    auth = api.user()
    video_id = api.upload(auth, clip_5s).json()["video_id"]
    got = follow(api.http, f"/api/videos/{video_id}/events", auth)
    events = _events(got)
    assert events, got
    assert set(events[-1]) == {"status", "progress", "queue_position", "eta_seconds", "error"}
    assert events[-1]["status"] == "processed" and events[-1]["progress"] == 100
    assert events[-1]["queue_position"] is None and events[-1]["error"] is None
    ranks = [ORDER[e["status"]] for e in events]
    assert ranks == sorted(ranks), events  # never backwards
    running = [e["progress"] for e in events if e["status"] == "processing"]
    assert running == sorted(running), events
    ids = [f.id for f in got if f.kind == "event"]
    assert all(ids) and len(set(ids)) == len(ids), ids  # an id on each, each state once

    # Reconnecting with the last id: nothing new to send, and the stream ends at once.
    again = follow(
        api.http, f"/api/videos/{video_id}/events", {**auth, "Last-Event-ID": ids[-1] or ""}
    )
    assert _events(again) == []
    # With an older id, the client is sent the state it missed.
    older = follow(
        api.http, f"/api/videos/{video_id}/events", {**auth, "Last-Event-ID": ids[0] or ""}
    )
    assert _events(older) == [events[-1]] or ids[0] == ids[-1]


def test_a_stream_is_for_the_owner_only(pg_stack: Stack, clip_5s: Path) -> None:
    api = Api(pg_stack.base_url)
    owner, other = api.user(), api.user()
    video_id = api.upload(owner, clip_5s).json()["video_id"]
    path = f"/api/videos/{video_id}/events"
    assert api.http.get(path).status_code == 401
    forbidden = api.http.get(path, headers=other)
    assert forbidden.status_code == 403 and forbidden.json()["detail"]
    missing = api.http.get("/api/videos/999999999/events", headers=owner)
    assert missing.status_code == 404 and missing.json()["detail"] == "Video not found"


@pytest.fixture(scope="module")
def paused_embedded(workdir: Path) -> Iterator[Stack]:
    """The embedded default with a 1 s heartbeat and a quick poll, its worker not started."""
    root = workdir / "live-embedded"
    settings = {**TEST_SETTINGS, "SSE_HEARTBEAT_SECONDS": "1", "JOB_EVENTS_POLL_SECONDS": "0.2"}
    stack = Stack(root, Services.embedded(root), settings=settings)
    try:
        yield stack.start(worker=False)
    finally:
        stack.stop()


def test_queue_position_eta_and_heartbeat_on_the_embedded_default(
    paused_embedded: Stack, clip_5s: Path
) -> None:
    api = Api(paused_embedded.base_url)
    auth = api.user()
    first, second = (api.upload(auth, clip_5s).json()["video_id"] for _ in range(2))
    listed = {v["video_id"]: v for v in api.http.get("/api/videos", headers=auth).json()}
    assert (listed[first]["queue_position"], listed[second]["queue_position"]) == (1, 2)
    # Nothing has been processed on this stack yet: no throughput measured, so no ETA figure.
    assert listed[first]["eta_seconds"] is None
    assert api.video(auth, second)["queue_position"] == 2

    got: list[Frame] = []
    with api.http.stream(
        "GET", f"/api/videos/{second}/events", headers=auth, timeout=httpx.Timeout(60)
    ) as response:
        assert response.status_code == 200
        assert response.headers.get("x-accel-buffering") == "no"
        deadline = time.monotonic() + 120
        for frame in frames(response):
            got.append(frame)
            comments = [f for f in got if f.kind == "comment"]
            if len(comments) == 2 and paused_embedded.worker is None:
                paused_embedded.start_worker()  # line moves: position 1, processing, processed
            assert time.monotonic() < deadline, got[-5:]
    events = _events(got)
    assert events[0]["status"] == "queued" and events[0]["queue_position"] == 2
    assert any(e["status"] == "queued" and e["queue_position"] == 1 for e in events), events
    assert events[-1]["status"] == "processed"
    pings = [f for f in got if f.kind == "comment"]
    assert len(pings) >= 2 and all(p.text.startswith("ping") for p in pings)

    # Two jobs measured: a new upload now gets an ETA from the fleet's throughput.
    api.wait_for(auth, first)
    paused_embedded.stop_worker()
    third = api.upload(auth, clip_5s).json()["video_id"]
    video = api.video(auth, third)
    assert video["queue_position"] == 1
    assert isinstance(video["eta_seconds"], int) and 0 < video["eta_seconds"] < 120, video
