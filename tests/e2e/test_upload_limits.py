"""Bad uploads get a clear 4xx, nothing is stored, no job is created."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

from devstack.stack import Stack
from tests.api_client import Api, multipart
from tests.helpers import silent_listener

LIMIT = 8 * 1024 * 1024  # MAX_UPLOAD_BYTES in the test stack


def _stored_files(stack: Stack) -> set[Path]:
    return {p for p in stack.storage_dir.rglob("*") if p.is_file() and "outputs" not in p.parts}


def _video_count(api: Api, auth: dict[str, str]) -> int:
    return int(api.http.get("/api/videos", headers=auth).headers["X-Total-Count"])


def test_chunked_upload_over_the_limit_is_413_and_leaves_nothing(api: Api, pg_stack: Stack) -> None:
    auth = api.user()
    before = _stored_files(pg_stack)
    sent = 0

    def body() -> Iterator[bytes]:  # a generator → chunked transfer, no Content-Length
        nonlocal sent
        yield b'--rfboundary\r\nContent-Disposition: form-data; name="title"\r\n\r\nBig\r\n'
        yield (b'--rfboundary\r\nContent-Disposition: form-data; name="video_file"; '
               b'filename="big.mp4"\r\nContent-Type: video/mp4\r\n\r\n')  # fmt: skip
        yield b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 12
        chunk = b"\x00" * (256 * 1024)
        for _ in range(LIMIT // len(chunk) + 8):
            sent += len(chunk)
            yield chunk
        yield b"\r\n--rfboundary--\r\n"

    response = api.upload_raw(auth, body())
    assert response.status_code == 413, response.text
    assert response.json()["detail"] == "File too large. Maximum size is 8 MiB"
    assert _stored_files(pg_stack) == before, "a partial file was left in storage"
    assert _video_count(api, auth) == 0


def test_declared_content_length_over_the_limit_is_refused_before_reading(api: Api) -> None:
    auth = api.user()
    big = multipart([("title", b"x", None), ("video_file", b"\x00" * (LIMIT + 200_000), "a.mp4")])
    response = api.upload_raw(auth, big)
    assert response.status_code == 413


def test_non_video_bytes_sent_as_mp4_are_415(api: Api, pg_stack: Stack) -> None:
    auth = api.user()
    before = _stored_files(pg_stack)
    for payload in (
        b"just some text, not a video" * 100,
        b"PK\x03\x04" + b"\x00" * 200,  # a ZIP
        b"\x89PNG\r\n\x1a\n" + b"\x00" * 200,
        b"#EXTM3U\n#EXTINF:10,\nfile:///etc/passwd\n",  # HLS playlist named .mp4
    ):
        response = api.upload_raw(
            auth, multipart([("title", b"t", None), ("video_file", payload, "x.mp4")])
        )
        assert response.status_code == 415, (payload[:10], response.text)
        assert "Unsupported file type" in response.json()["detail"]
    assert _stored_files(pg_stack) == before
    assert _video_count(api, auth) == 0


def test_empty_file_and_missing_fields_are_400(api: Api, clip_small: Path) -> None:
    auth = api.user()
    empty = api.upload_raw(auth, multipart([("title", b"t", None), ("video_file", b"", "x.mp4")]))
    assert empty.status_code == 400 and empty.json() == {"detail": "The uploaded file is empty"}
    no_title = api.upload_raw(auth, multipart([("video_file", clip_small.read_bytes(), "x.mp4")]))
    assert no_title.status_code == 400 and no_title.json() == {"detail": "Title is required"}
    blank = api.upload_raw(
        auth, multipart([("title", b"  ", None), ("video_file", clip_small.read_bytes(), "x.mp4")])
    )
    assert blank.status_code == 400
    long_title = api.upload(auth, clip_small, title="x" * 10_000)
    assert long_title.status_code == 400 and "Title must be" in long_title.json()["detail"]
    no_file = api.upload_raw(auth, multipart([("title", b"t", None)]))
    assert no_file.status_code == 400 and no_file.json() == {"detail": "video_file is required"}
    not_multipart = api.http.post("/api/videos/upload", headers=auth, json={"title": "x"})
    assert not_multipart.status_code == 400
    assert _video_count(api, auth) == 0


def test_client_filename_never_becomes_a_storage_path(
    api: Api, pg_stack: Stack, clip_small: Path
) -> None:
    auth = api.user()
    for filename in ("../../etc/passwd", "/etc/passwd", "a" * 10_000 + ".mp4"):
        body = multipart([("title", b"t", None), ("video_file", clip_small.read_bytes(), filename)])
        response = api.upload_raw(auth, body)
        assert response.status_code == 202, response.text
    for path in pg_stack.storage_dir.rglob("*"):
        assert "passwd" not in path.name and len(path.name) < 100


def test_a_playlist_behind_a_video_signature_is_never_processed(api: Api) -> None:
    """Bytes that pass the magic-number sniff but are really an HLS playlist pointing at a local
    server: ffprobe's demuxer whitelist refuses it, and nothing ever connects out."""
    with silent_listener() as (port, connections):
        auth = api.user()
        payload = (
            b"\x00\x00\x00\x18ftypisom\x00\x00\x00\x00isom\n#EXTM3U\n#EXT-X-TARGETDURATION:10\n"
            + f"#EXTINF:10,\nhttp://127.0.0.1:{port}/segment.ts\n#EXT-X-ENDLIST\n".encode()
        )
        response = api.upload_raw(
            auth, multipart([("title", b"t", None), ("video_file", payload, "x.mp4")])
        )
        assert response.status_code == 202
        video = api.wait_for(auth, response.json()["video_id"])
        assert video["status"] == "failed"
        assert (
            video["error"] == "The file is not a readable video (unsupported or corrupt container)"
        )
        time.sleep(0.5)
    assert connections == []
