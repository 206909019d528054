"""Hostile uploads, made by the test itself: each ends as a clean 4xx or a `failed` job with a
reason; the worker survives; nothing is written outside storage; nothing connects out."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.api_client import Api, multipart
from tests.helpers import silent_listener
from tests.media import make_clip
from tests.reliability.conftest import MakeStack

FTYP = b"\x00\x00\x00\x18ftypisom\x00\x00\x00\x00isommp42"


@pytest.fixture(scope="module")
def hostile_media(media: Path) -> dict[str, bytes]:
    good = make_clip(media / "hostile-base.mp4", seconds=3, width=320, height=240, audio=False)
    data = good.read_bytes()
    moov = data.find(b"moov") - 4
    moov_size = int.from_bytes(data[moov : moov + 4], "big")
    no_moov = data[:moov] + data[moov + moov_size :]  # the whole index atom cut out
    huge = media / "huge.mov"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "color=c=red:s=8192x8192:d=0.04",
                    "-frames:v", "1", "-c:v", "mjpeg", "-q:v", "31", str(huge)], check=True, timeout=120)  # fmt: skip
    long = make_clip(media / "long-25s.mp4", seconds=25, width=64, height=48, fps=5, audio=False)
    return {
        "truncated to 10%": data[: len(data) // 10],
        "mp4 without moov": no_moov,
        "8192x8192": huge.read_bytes(),
        "longer than MAX_INPUT_SECONDS": long.read_bytes(),
    }


def test_hostile_files_fail_with_a_reason_and_the_worker_survives(
    make_stack: MakeStack, hostile_media: dict[str, bytes], clip_small: Path
) -> None:
    stack = make_stack(MAX_INPUT_SECONDS="20")
    api = Api(stack.base_url)
    auth = api.user()
    with silent_listener() as (port, connections):
        cases = {
            **hostile_media,
            "hls playlist behind ftyp": FTYP
            + b"\n#EXTM3U\n#EXTINF:1,\nfile:///etc/passwd\n"
            + f"#EXTINF:1,\nhttp://127.0.0.1:{port}/a.ts\n#EXT-X-ENDLIST\n".encode(),
            "concat script behind ftyp": FTYP
            + b"\nffconcat version 1.0\nfile '/etc/passwd'\n"
            + f"file 'http://127.0.0.1:{port}/b.mp4'\n".encode(),
        }
        ids = {}
        for name, payload in cases.items():
            body = multipart([("title", name.encode(), None), ("video_file", payload, "x.mp4")])
            response = api.upload_raw(auth, body)
            assert response.status_code == 202, (name, response.text)
            ids[name] = response.json()["video_id"]
        results = {name: api.wait_for(auth, vid, timeout=90) for name, vid in ids.items()}
    assert connections == [], "FFmpeg connected out"
    for name, video in results.items():
        assert video["status"] == "failed", (name, video)
        assert video["error"], name
    assert results["8192x8192"]["error"] == "Video dimensions 8192x8192 exceed the 4096 pixel limit"
    assert (
        results["longer than MAX_INPUT_SECONDS"]["error"]
        == "Video is too long (25 s; the limit is 20 s)"
    )
    for name in (
        "hls playlist behind ftyp",
        "concat script behind ftyp",
        "truncated to 10%",
        "mp4 without moov",
    ):
        assert "not a readable video" in results[name]["error"] or results[name][
            "error"
        ].startswith("FFmpeg failed"), results[name]
    # The worker is still healthy, and nothing escaped storage or the job's temp dir.
    assert api.processed_video(auth, clip_small) > 0
    assert list(stack.temp_dir("worker").iterdir()) == []
    assert not list(stack.root.glob("passwd*"))


def test_hostile_requests_get_clean_4xx(make_stack: MakeStack, clip_small: Path) -> None:
    stack = make_stack(worker=False)
    api = Api(stack.base_url)
    auth = api.user()
    video = clip_small.read_bytes()
    cases = [
        (multipart([("title", b"t", None), ("video_file", b"", "x.mp4")]), 400),
        (multipart([("title", b"t", None), ("video_file", b"plain text " * 50, "x.mp4")]), 415),
        (
            multipart(
                [("title", b"t", None), ("video_file", b"PK\x03\x04" + b"\x00" * 64, "x.zip")]
            ),
            415,
        ),
        (
            multipart(
                [
                    ("title", b"t", None),
                    ("video_file", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "x.mp4"),
                ]
            ),
            415,
        ),
        (
            multipart(
                [
                    ("title", b"t", None),
                    ("video_file", b"ffconcat version 1.0\nfile '/etc/passwd'\n", "x.mp4"),
                ]
            ),
            415,
        ),
        (multipart([("title", b"x" * 10_000, None), ("video_file", video, "x.mp4")]), 400),
        (multipart([("title", b"t", None), ("video_file", video, "../../etc/passwd")]), 202),
        (multipart([("title", b"t", None), ("video_file", video, "/etc/passwd")]), 202),
        (multipart([("title", b"t", None), ("video_file", video, "a" * 10_000)]), 202),
        (multipart([("title", b"t", None), ("video_file", video, "evil\x00.mp4")]), 202),
    ]
    for body, expected in cases:
        response = api.upload_raw(auth, body)
        assert response.status_code == expected, (body[:120], response.text)
        assert "detail" in response.json() or expected == 202
    for path in stack.storage_dir.rglob("*"):
        assert "passwd" not in str(path) and "evil" not in path.name


def test_a_dripping_upload_is_cut_with_408_and_leaves_nothing(make_stack: MakeStack) -> None:
    """One byte every 0.4 s never stalls, so a per-read timeout never fires: the app's minimum
    average rate must cut it, and free the upload slot."""
    import select
    import socket
    import time

    stack = make_stack(worker=False, UPLOAD_MIN_BYTES_PER_SECOND="1024",
                       UPLOAD_RATE_GRACE_SECONDS="2")  # fmt: skip
    api = Api(stack.base_url)
    auth = api.user()
    head = (
        b'--x\r\nContent-Disposition: form-data; name="title"\r\n\r\nslow\r\n'
        b'--x\r\nContent-Disposition: form-data; name="video_file"; filename="a.mp4"\r\n\r\n' + FTYP
    )
    request = (
        f"POST /api/videos/upload HTTP/1.1\r\nHost: test\r\nAuthorization: {auth['Authorization']}"
        f"\r\nContent-Type: multipart/form-data; boundary=x\r\nContent-Length: 1000000\r\n\r\n"
    ).encode()
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", int(stack.base_url.rsplit(":", 1)[1]))) as sock:
        sock.sendall(request + head)
        answer = b""
        while time.monotonic() - started < 30 and b"}" not in answer:  # the JSON body's end
            if select.select([sock], [], [], 0.4)[0]:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                answer += chunk
            else:
                try:
                    sock.sendall(b"\x00")  # the drip
                except OSError:
                    break
    elapsed = time.monotonic() - started
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert b"Upload too slow" in answer and elapsed < 10, elapsed
    assert not any(p.is_file() for p in stack.storage_dir.rglob("*"))
    # The slot was released: the same user uploads again at once.
    assert (
        api.upload(auth, Path(__file__).parents[1] / "fixtures" / "crashing_ffmpeg.sh").status_code
        == 415
    )


def test_without_a_proxy_a_forged_forwarded_for_buys_no_requests(make_stack: MakeStack) -> None:
    """`make run` has no nginx in front: X-Forwarded-For must not change who the client is."""
    import httpx

    stack = make_stack(worker=False, RATE_LIMIT_DEFAULT="3/minute")
    codes = [
        httpx.get(stack.base_url + "/api/public/videos",
                  headers={"X-Forwarded-For": f"10.0.0.{i}"}, timeout=10).status_code
        for i in range(5)
    ]  # fmt: skip
    assert codes == [200, 200, 200, 429, 429]
