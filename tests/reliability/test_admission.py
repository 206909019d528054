"""Backpressure (503/507 with Retry-After) and Idempotency-Key on upload."""

from __future__ import annotations

import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from tests.api_client import Api
from tests.reliability.conftest import MakeStack


def _count(api: Api, auth: dict[str, str]) -> int:
    return int(api.http.get("/api/videos", headers=auth).headers["X-Total-Count"])


def test_backlog_over_threshold_is_503_then_accepted_once_drained(
    make_stack: MakeStack, clip_small: Path
) -> None:
    stack = make_stack(worker=False, BACKLOG_MAX_QUEUED="3", ADMISSION_CACHE_SECONDS="0")
    api = Api(stack.base_url)
    auth = api.user()
    ids = [api.upload(auth, clip_small).json()["video_id"] for _ in range(3)]
    refused = api.upload(auth, clip_small)
    assert refused.status_code == 503
    assert refused.headers["Retry-After"] == "30"
    assert refused.json() == {
        "detail": "Processing backlog is full (3 videos waiting); retry later"
    }
    assert _count(api, auth) == 3
    metrics = httpx.get(stack.base_url + "/metrics").text
    assert re.search(r'reelforge_admission_rejected_total\{reason="backlog"\} 1\.0', metrics)

    stack.start_worker()
    for video_id in ids:
        assert api.wait_for(auth, video_id)["status"] == "processed"
    assert api.upload(auth, clip_small).status_code == 202


def test_oldest_job_age_over_threshold_is_503(make_stack: MakeStack, clip_small: Path) -> None:
    stack = make_stack(worker=False, BACKLOG_MAX_OLDEST_SECONDS="1", ADMISSION_CACHE_SECONDS="0")
    api = Api(stack.base_url)
    auth = api.user()
    assert api.upload(auth, clip_small).status_code == 202
    import time

    time.sleep(1.5)
    refused = api.upload(auth, clip_small)
    assert refused.status_code == 503 and refused.headers["Retry-After"]
    assert refused.json()["detail"].startswith("Processing is ")


def test_low_free_space_is_507_and_nothing_is_stored(
    make_stack: MakeStack, clip_small: Path
) -> None:
    stack = make_stack(worker=False, MIN_FREE_DISK_BYTES=str(10**18))
    api = Api(stack.base_url)
    auth = api.user()
    refused = api.upload(auth, clip_small)
    assert refused.status_code == 507 and refused.headers["Retry-After"] == "30"
    assert refused.json() == {
        "detail": "Not enough storage space to accept uploads right now; retry later"
    }
    assert not any(p.is_file() for p in stack.storage_dir.rglob("*"))


def test_idempotency_key_replay_misuse_and_scope(
    make_stack: MakeStack, clip_small: Path, media: Path
) -> None:
    stack = make_stack(worker=False)
    api = Api(stack.base_url)
    auth, other = api.user(), api.user()
    key = {"Idempotency-Key": "upload-7f3a"}
    first = api.upload(auth, clip_small, title="Same", headers=key)
    again = api.upload(auth, clip_small, title="Same", headers=key)
    assert first.status_code == again.status_code == 202
    assert again.json() == first.json()
    assert _count(api, auth) == 1
    stored = [p for p in stack.storage_dir.rglob("*") if p.is_file()]
    assert len(stored) == 1, "the replayed bytes must not stay in storage"

    different_title = api.upload(auth, clip_small, title="Other", headers=key)
    assert different_title.status_code == 422
    assert different_title.json() == {
        "detail": "Idempotency-Key was already used for a different upload"
    }
    from tests.media import make_clip

    other_clip = make_clip(media / "idem-other.mp4", seconds=1, width=160, height=120, audio=False)
    different_bytes = api.upload(auth, other_clip, title="Same", headers=key)
    assert different_bytes.status_code == 422
    assert _count(api, auth) == 1

    theirs = api.upload(other, clip_small, title="Same", headers=key)
    assert theirs.status_code == 202 and theirs.json()["video_id"] != first.json()["video_id"]
    bad = api.upload(auth, clip_small, headers={"Idempotency-Key": "x" * 300})
    assert bad.status_code == 400


def test_concurrent_retries_with_one_key_make_one_job(
    make_stack: MakeStack, clip_small: Path
) -> None:
    stack = make_stack(worker=False)
    api = Api(stack.base_url)
    auth = api.user()
    payload = clip_small.read_bytes()

    def send(_: int) -> httpx.Response:
        return httpx.post(stack.base_url + "/api/videos/upload", timeout=30,
                          headers={**auth, "Idempotency-Key": "race-1"}, data={"title": "t"},
                          files={"video_file": ("a.mp4", payload, "video/mp4")})  # fmt: skip

    with ThreadPoolExecutor(6) as pool:
        responses = list(pool.map(send, range(6)))
    assert {r.status_code for r in responses} == {202}
    assert len({r.json()["video_id"] for r in responses}) == 1
    assert _count(api, auth) == 1
    assert len([p for p in stack.storage_dir.rglob("*") if p.is_file()]) == 1


def test_streaming_uploads_do_not_hold_database_connections(
    make_stack: MakeStack, clip_small: Path
) -> None:
    """With a pool of one connection, two uploads paused mid-body must not block other requests."""
    import threading
    import time

    stack = make_stack(worker=False, DB_POOL_SIZE="1", DB_MAX_OVERFLOW="0")
    api = Api(stack.base_url)
    auth = api.user()
    release = threading.Event()
    results: list[int] = []

    def body() -> Iterator[bytes]:
        yield b'--rfb\r\nContent-Disposition: form-data; name="title"\r\n\r\nslow\r\n'
        yield b'--rfb\r\nContent-Disposition: form-data; name="video_file"; filename="s.mp4"\r\n\r\n'
        yield clip_small.read_bytes()
        release.wait(30)
        yield b"\r\n--rfb--\r\n"

    def slow_upload() -> None:
        headers = {**auth, "Content-Type": "multipart/form-data; boundary=rfb"}
        r = httpx.post(
            stack.base_url + "/api/videos/upload", headers=headers, content=body(), timeout=60
        )
        results.append(r.status_code)

    senders = [threading.Thread(target=slow_upload) for _ in range(2)]
    for sender in senders:
        sender.start()
    time.sleep(1.5)  # both bodies are now streaming, authenticated, waiting for their last bytes
    started = time.monotonic()
    listing = api.http.get("/api/videos", headers=auth)
    waited = time.monotonic() - started
    release.set()
    for sender in senders:
        sender.join(60)
    assert listing.status_code == 200, listing.text
    assert waited < 2, f"a request waited {waited:.1f} s for a pooled connection"
    assert results == [202, 202]
