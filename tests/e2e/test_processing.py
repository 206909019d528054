"""Upload → 202 → Celery worker → FFmpeg → processed, through real processes."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from devstack.stack import Stack
from tests.api_client import Api
from tests.media import ffprobe, make_clip, video_stream

BUMPERS = 2 * 2.0  # intro + outro at the default 2 s each


def _upload_and_check_output(stack: Stack, clip: Path, tmp_path: Path) -> dict:  # type: ignore[type-arg]
    api = Api(stack.base_url)
    auth = api.user()
    started = time.monotonic()
    response = api.upload(auth, clip, title="End to end")
    accepted_in = time.monotonic() - started
    assert response.status_code == 202, response.text
    body = response.json()
    assert accepted_in < 1.0, f"upload took {accepted_in:.2f} s to be accepted"
    assert body["status"] == "queued" and body["task_id"]
    assert response.headers["Location"] == body["status_url"] == f"/api/videos/{body['video_id']}"

    video = api.wait_for(auth, body["video_id"])
    assert video["status"] == "processed", video
    assert video["progress"] == 100 and video["error"] is None
    assert any(state == "processing" for state, _ in video["_seen"]) or video["_seen"][0][0] in (
        "queued",
        "processed",
    )

    out = tmp_path / "out.mp4"
    download = api.http.get(video["processed_url"], headers=auth)
    assert download.status_code == 200
    assert download.headers["content-type"] == "video/mp4"
    out.write_bytes(download.content)
    info = ffprobe(out)
    stream = video_stream(info)
    assert (stream["width"], stream["height"], stream["codec_name"]) == (1280, 720, "h264")
    assert [s for s in info["streams"] if s["codec_type"] == "audio"] == []

    thumb = api.http.get(video["thumbnail_url"], headers=auth)
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/jpeg"
    assert thumb.content[:3] == b"\xff\xd8\xff"
    video["_duration"] = float(info["format"]["duration"])
    video["_accepted_in"] = accepted_in
    return video


def test_postgres_redis_end_to_end(pg_stack: Stack, clip_5s: Path, tmp_path: Path) -> None:
    video = _upload_and_check_output(pg_stack, clip_5s, tmp_path)
    assert video["_duration"] <= BUMPERS + 5 + 0.5
    assert video["duration_seconds"] == pytest.approx(video["_duration"], abs=0.1)


def test_embedded_default_end_to_end(embedded_stack: Stack, clip_5s: Path, tmp_path: Path) -> None:
    video = _upload_and_check_output(embedded_stack, clip_5s, tmp_path)
    assert video["_duration"] <= BUMPERS + 5 + 0.5


def test_long_input_is_trimmed_to_30_seconds(api: Api, media: Path, tmp_path: Path) -> None:
    clip = make_clip(media / "clip-40s.mp4", seconds=40, width=320, height=240, fps=15, audio=False)
    auth = api.user()
    video_id = api.processed_video(auth, clip)
    out = tmp_path / "trimmed.mp4"
    out.write_bytes(
        api.http.get(f"/api/videos/{video_id}/file?variant=processed", headers=auth).content
    )
    duration = float(ffprobe(out)["format"]["duration"])
    assert 30 + BUMPERS - 0.5 <= duration <= 30 + BUMPERS + 0.5


def test_portrait_input_is_pillarboxed(api: Api, media: Path, tmp_path: Path) -> None:
    clip = make_clip(media / "portrait.mp4", seconds=2, width=720, height=1280, audio=False)
    auth = api.user()
    video_id = api.processed_video(auth, clip)
    out = tmp_path / "portrait-out.mp4"
    out.write_bytes(
        api.http.get(f"/api/videos/{video_id}/file?variant=processed", headers=auth).content
    )
    stream = video_stream(ffprobe(out))
    assert (stream["width"], stream["height"]) == (1280, 720)
    # Pillarbox: a frame from the main clip has black bars left and right, picture in the middle.
    frame = tmp_path / "frame.gray"
    import subprocess

    subprocess.run(
        ["ffmpeg", "-v", "error", "-ss", "3", "-i", str(out), "-frames:v", "1",
         "-f", "rawvideo", "-pix_fmt", "gray", "-y", str(frame)],
        check=True, timeout=60,
    )  # fmt: skip
    pixels = frame.read_bytes()
    assert len(pixels) == 1280 * 720
    row = pixels[360 * 1280 : 361 * 1280]
    picture_width = 720 * 720 // 1280  # 405 px wide once scaled to 720 high
    left_bar = row[: (1280 - picture_width) // 2 - 4]
    centre = row[640 - 150 : 640 + 150]
    assert max(left_bar) < 24, "left bar is not black"
    assert max(row[-((1280 - picture_width) // 2 - 4) :]) < 24, "right bar is not black"
    assert max(centre) > 60, "the picture is not in the middle"
