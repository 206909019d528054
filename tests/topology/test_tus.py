"""tus through `make stack`'s topology: nginx → gunicorn ×2 → Postgres, Redis, S3 (multipart
parts and tail objects in the bucket, no state in any API process) → a worker. Generic clients
(tuspy, tus-js-client) upload without reelforge-specific code; the video ends processed and its
original downloads byte for byte."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from tusclient import client as tus_client
from tusclient.exceptions import TusCommunicationError

from devstack.servers import VENV_BIN, Process, free_port, wait_until
from devstack.stack import Stack
from tests.api_client import Api
from tests.helpers import db
from tests.tus_clients import (
    CutProxy,
    node_upload,
    original_bytes,
    resume_in_new_process,
    sha256,
    tuspy_upload,
    video_of,
)

MIB = 1024 * 1024


def _processed(edge: Api, auth: dict[str, str], url: str, data: bytes) -> int:
    video_id = video_of(edge, auth, url)
    assert edge.wait_for(auth, video_id, timeout=180)["status"] == "processed"
    assert sha256(original_bytes(edge, auth, video_id)) == sha256(data)
    return video_id


def test_tuspy_in_chunks_below_the_s3_part_size(edge: Api, clip_noise: Path) -> None:
    """2 MiB chunks against 5 MiB parts: PATCHes end in tail objects the next one reads, and the
    bytes cross part boundaries."""
    assert clip_noise.stat().st_size > 6 * MIB
    auth = edge.user()
    url = tuspy_upload(edge.base_url, auth, clip_noise, "tuspy chunks", 2 * MIB)
    _processed(edge, auth, url, clip_noise.read_bytes())


def test_tus_js_client_whole_file(edge: Api, clip_5s: Path) -> None:
    auth = edge.user()
    token = auth["Authorization"].split()[1]
    url = node_upload(edge.base_url, token, clip_5s, "tus-js-client", 50 * MIB)
    _processed(edge, auth, url, clip_5s.read_bytes())


def test_tus_js_client_in_chunks(edge: Api, clip_small: Path) -> None:
    auth = edge.user()
    token = auth["Authorization"].split()[1]
    url = node_upload(edge.base_url, token, clip_small, "tus-js-client chunks", 4096)
    _processed(edge, auth, url, clip_small.read_bytes())


def test_cut_at_half_resumes_in_a_new_process_with_one_job(
    native: Stack, edge: Api, clip_noise: Path
) -> None:
    clip_5s = clip_noise
    data = clip_5s.read_bytes()
    chunk = 1 * MIB
    auth = edge.user()
    proxy = CutProxy(native.edge_port, cut_after=len(data) // 2)
    try:
        uploader = tus_client.TusClient(f"http://127.0.0.1:{proxy.port}/api/uploads", headers=auth).uploader(
            str(clip_5s), chunk_size=chunk, metadata={"title": "cut", "filename": "clip.mp4"})  # fmt: skip
        with pytest.raises((TusCommunicationError, OSError, Exception)):
            uploader.upload()
        assert proxy.cut and uploader.url
    finally:
        proxy.close()
    path = "/" + uploader.url.split("/", 3)[3]
    kept = _settled_offset(edge, auth, path)
    assert 0 < kept <= len(data) // 2
    resume_in_new_process(edge.base_url, auth, clip_5s, edge.base_url + path, chunk)
    sent = proxy.sent + (len(data) - kept)  # the second process sends only what the server lacks
    assert sent - len(data) <= chunk + 64 * 1024, (sent, len(data))  # ≤ one chunk (+ headers)
    video_id = _processed(edge, auth, path, data)
    videos = edge.http.get("/api/videos", headers=auth).json()
    assert [v["video_id"] for v in videos] == [video_id]  # one job


def _settled_offset(api: Api, auth: dict[str, str], path: str) -> int:
    """The offset once the cut PATCH has been recorded: an empty PATCH (valid tus) at that offset
    succeeds only when no request holds the upload (423 meanwhile) and the offset is current."""
    tus = {**auth, "Tus-Resumable": "1.0.0"}
    seen = []
    for _ in range(100):
        head = api.http.head(path, headers=tus)
        seen.append(head.status_code)
        if head.status_code == 200:
            offset = int(head.headers["upload-offset"])
            probe = api.http.patch(path, content=b"", headers={
                **tus, "Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream"})  # fmt: skip
            seen.append(probe.status_code)
            if probe.status_code == 204:
                return offset
        time.sleep(0.1)
    raise AssertionError(f"the upload never settled: {seen[-10:]}")


@pytest.fixture
def second_api(native: Stack) -> Iterator[str]:
    """Another API process on the same database, broker and bucket (another machine, in effect)."""
    port = free_port()
    env = native.tier_env("api", FORWARDED_ALLOW_IPS="127.0.0.1")
    proc = Process("api-2", [str(VENV_BIN / "uvicorn"), "app.main:app", "--host", "127.0.0.1",
                             "--port", str(port)], env, native.root / "logs" / "api-2.log")  # fmt: skip
    proc.start()
    url = f"http://127.0.0.1:{port}"
    wait_until(lambda: os.path.exists(proc.log) and _answers(url), 60, "the second API")
    yield url
    proc.stop()


def _answers(url: str) -> bool:
    try:
        return Api(url).http.get("/health").status_code == 200
    except Exception:
        return False


def test_patches_alternate_between_two_api_processes(
    native: Stack, second_api: str, clip_noise: Path
) -> None:
    data = clip_noise.read_bytes()
    first, second = Api(native.base_url), Api(second_api)
    auth = first.user()
    tus = {**auth, "Tus-Resumable": "1.0.0"}
    created = first.http.post("/api/uploads", headers={**tus, "Upload-Length": str(len(data)),
                                                        "Upload-Metadata": "title dHdvIHByb2Nlc3Nlcw=="})  # fmt: skip
    assert created.status_code == 201, created.text
    path = created.headers["location"]
    offset, turn = 0, 0
    while offset < len(data):
        api = (first, second)[turn % 2]
        piece = data[offset : offset + MIB]  # parts fill across PATCHes from both processes
        response = api.http.patch(path, content=piece, headers={
            **tus, "Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream"})  # fmt: skip
        assert response.status_code == 204, response.text
        offset, turn = int(response.headers["upload-offset"]), turn + 1
    assert turn >= 4
    _processed(first, auth, path, data)


def open_multipart_uploads(s3: Any) -> set[str]:
    return {u["UploadId"] for u in s3.list_multipart_uploads(Bucket="reelforge").get("Uploads", [])}


def test_expired_upload_is_swept_with_its_s3_multipart_upload(
    native: Stack, edge: Api, clip_5s: Path
) -> None:
    head = clip_5s.read_bytes()
    data = head + os.urandom(8 * MIB - len(head))  # a real container's first bytes, 8 MiB long
    auth = edge.user()
    tus = {**auth, "Tus-Resumable": "1.0.0"}
    created = edge.http.post("/api/uploads", headers={**tus, "Upload-Length": str(len(data)),
                                                       "Upload-Metadata": "title c3dlcHQ="})  # fmt: skip
    path = created.headers["location"]
    response = edge.http.patch(path, content=data[: 6 * MIB], headers={
        **tus, "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"})  # fmt: skip
    assert response.status_code == 204
    s3 = boto3.client("s3", endpoint_url=native.services.s3_url, region_name="us-east-1",
                      aws_access_key_id="reelforge", aws_secret_access_key="reelforge-secret")  # fmt: skip
    upload_id = path.rsplit("/", 1)[1]
    with db(native) as conn:
        row = conn.execute(
            "SELECT backend_upload_id FROM upload WHERE id = %s", (upload_id,)
        ).fetchone()
        assert row is not None
        (multipart_id,) = row
        conn.execute(
            "UPDATE upload SET expires_at = now() - interval '1 second' WHERE id = %s", (upload_id,)
        )
        conn.commit()
    # this upload's first 5 MiB part went to an S3 multipart upload (other tests' may be open too)
    assert multipart_id in open_multipart_uploads(s3)
    assert edge.http.head(path, headers=tus).status_code == 410

    def swept() -> bool:
        with db(native) as conn:
            row = conn.execute("SELECT 1 FROM upload WHERE id = %s", (upload_id,)).fetchone()
        return row is None

    wait_until(swept, 30, "the reconciler's upload sweep")
    assert multipart_id not in open_multipart_uploads(s3)  # aborted
    tails = s3.list_objects_v2(Bucket="reelforge", Prefix=f"uploads/{upload_id}/").get(
        "KeyCount", 0
    )
    assert tails == 0


def test_an_upload_whose_bytes_are_gone_says_410_not_503_forever(
    native: Stack, edge: Api, clip_5s: Path
) -> None:
    """The tail object the row names was deleted behind the service's back: the PATCH answers
    410 with why (a client stops), the upload is removed; before, every retry answered 503."""
    data = clip_5s.read_bytes()
    auth = edge.user()
    tus = {**auth, "Tus-Resumable": "1.0.0"}
    created = edge.http.post("/api/uploads", headers={**tus, "Upload-Length": str(len(data)),
                                                       "Upload-Metadata": "title Z29uZQ=="})  # fmt: skip
    path = created.headers["location"]
    half = len(data) // 2
    response = edge.http.patch(path, content=data[:half], headers={
        **tus, "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"})  # fmt: skip
    assert response.status_code == 204
    with db(native) as conn:
        row = conn.execute(
            "SELECT tail_key FROM upload WHERE id = %s", (path.rsplit("/", 1)[1],)
        ).fetchone()
        assert row is not None
        (tail_key,) = row
    s3 = boto3.client("s3", endpoint_url=native.services.s3_url, region_name="us-east-1",
                      aws_access_key_id="reelforge", aws_secret_access_key="reelforge-secret")  # fmt: skip
    s3.delete_object(Bucket="reelforge", Key=tail_key)
    response = edge.http.patch(path, content=data[half:], headers={
        **tus, "Upload-Offset": str(half), "Content-Type": "application/offset+octet-stream"})  # fmt: skip
    assert response.status_code == 410, response.text
    assert "start a new upload" in response.json()["detail"]
    assert edge.http.head(path, headers=tus).status_code == 404


def test_ten_thousand_tiny_patches_are_rate_limited_never_an_error(
    strict: Stack, clip_small: Path
) -> None:
    data = clip_small.read_bytes()
    api = Api(strict.url)
    auth = api.user()
    tus = {**auth, "Tus-Resumable": "1.0.0"}
    created = api.http.post("/api/uploads", headers={**tus, "Upload-Length": str(len(data)),
                                                      "Upload-Metadata": "title dGlueQ=="})  # fmt: skip
    assert created.status_code == 201, created.text
    path = created.headers["location"]
    offset, statuses = 0, dict[int, int]()
    for _ in range(10_000):
        response = api.http.patch(path, content=data[offset : offset + 1], headers={
            **tus, "Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream"})  # fmt: skip
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        if response.status_code == 204:
            offset += 1
    assert set(statuses) <= {204, 429}, statuses
    assert statuses.get(429, 0) > 5_000 and statuses.get(204, 0) > 0
    for _ in range(50):  # the HEAD shares the rate limit: wait for the bucket to refill
        head = api.http.head(path, headers=tus)
        if head.status_code != 429:
            break
        time.sleep(0.2)
    assert int(head.headers["upload-offset"]) == offset  # every accepted byte, none twice
