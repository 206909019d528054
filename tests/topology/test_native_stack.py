"""Through nginx → gunicorn (2 workers) → Postgres/Redis/S3 → Celery worker, no shared disk."""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import httpx

from devstack.servers import Redis
from devstack.stack import Stack
from tests.api_client import Api
from tests.media import ffprobe, video_stream


def _s3(stack: Stack):  # type: ignore[no-untyped-def]
    assert stack.services.s3_url is not None
    return boto3.client("s3", endpoint_url=stack.services.s3_url, region_name="us-east-1",
                        aws_access_key_id="reelforge", aws_secret_access_key="reelforge-secret")  # fmt: skip


def _local_files(stack: Stack, tier: str) -> list[Path]:
    return [p for p in (stack.root / tier / "var").rglob("*") if p.is_file()]


def test_upload_to_processed_with_s3_and_presigned_download(
    native: Stack, edge: Api, clip_5s: Path, tmp_path: Path
) -> None:
    auth = edge.user()
    accepted = edge.upload(auth, clip_5s, title="Through nginx")
    assert accepted.status_code == 202, accepted.text
    video = edge.wait_for(auth, accepted.json()["video_id"])
    assert video["status"] == "processed", video

    redirect = edge.http.get(video["processed_url"], headers=auth)
    assert redirect.status_code == 307
    presigned = redirect.headers["location"]
    assert native.services.s3_url is not None
    assert presigned.startswith(native.services.s3_url) and "X-Amz-Signature" in presigned
    body = httpx.get(presigned, timeout=30)
    assert body.status_code == 200 and body.headers["content-type"] == "video/mp4"
    out = tmp_path / "from-s3.mp4"
    out.write_bytes(body.content)
    stream = video_stream(ffprobe(out))
    assert (stream["width"], stream["height"]) == (1280, 720)

    keys = {o["Key"] for o in _s3(native).list_objects_v2(Bucket="reelforge")["Contents"]}
    assert any(k.startswith("originals/") for k in keys)
    assert any(k.endswith("/processed.mp4") for k in keys)
    # No shared filesystem: neither tier keeps media on its own disk.
    for tier in ("api", "worker"):
        assert [p for p in _local_files(native, tier) if p.suffix in (".mp4", ".jpg", "")] == []
    assert list((native.root / "worker" / "tmp").iterdir()) == []


def test_nginx_streams_the_upload_to_the_api(native: Stack, edge: Api, clip_small: Path) -> None:
    """The API starts writing to S3 (a multipart upload appears) before the client finishes."""
    auth = edge.user()
    resume = threading.Event()
    first_part = 6 * 1024 * 1024  # more than one 5 MiB S3 part
    result: dict[str, httpx.Response] = {}

    def body() -> Iterator[bytes]:
        yield b'--rfb\r\nContent-Disposition: form-data; name="title"\r\n\r\nslow\r\n'
        yield b'--rfb\r\nContent-Disposition: form-data; name="video_file"; filename="s.mp4"\r\n\r\n'
        yield clip_small.read_bytes()
        for _ in range(first_part // (256 * 1024)):
            yield b"\x00" * (256 * 1024)
        resume.wait(30)
        yield b"\x00" * 1024 + b"\r\n--rfb--\r\n"

    def send() -> None:
        headers = {**auth, "Content-Type": "multipart/form-data; boundary=rfb"}
        result["r"] = httpx.post(
            native.url + "/api/videos/upload", headers=headers, content=body(), timeout=60
        )

    sender = threading.Thread(target=send)
    sender.start()
    try:
        deadline = time.monotonic() + 20
        uploads: list[dict] = []  # type: ignore[type-arg]
        while not uploads and time.monotonic() < deadline:
            uploads = _s3(native).list_multipart_uploads(Bucket="reelforge").get("Uploads", [])
            time.sleep(0.1)
        assert "r" not in result, "the request finished before the body was complete"
        assert uploads, "the API saw nothing before the client finished sending"
    finally:
        resume.set()
        sender.join(60)
    assert result["r"].status_code == 202, result["r"].text


def test_upload_over_the_limit_aborts_the_s3_multipart_upload(native: Stack, edge: Api) -> None:
    auth = edge.user()
    s3 = _s3(native)
    before = {o["Key"] for o in s3.list_objects_v2(Bucket="reelforge").get("Contents", [])}

    def body() -> Iterator[bytes]:  # chunked, no Content-Length: the limit bites mid-stream
        yield b'--rfb\r\nContent-Disposition: form-data; name="title"\r\n\r\nbig\r\n'
        yield b'--rfb\r\nContent-Disposition: form-data; name="video_file"; filename="b.mp4"\r\n\r\n'
        yield b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 12
        for _ in range(14 * 4):
            yield b"\x00" * (256 * 1024)
        yield b"\r\n--rfb--\r\n"

    headers = {**auth, "Content-Type": "multipart/form-data; boundary=rfb"}
    response = httpx.post(
        native.url + "/api/videos/upload", headers=headers, content=body(), timeout=60
    )
    assert response.status_code == 413 and response.json()["detail"].startswith("File too large")
    assert s3.list_multipart_uploads(Bucket="reelforge").get("Uploads", []) == []
    after = {o["Key"] for o in s3.list_objects_v2(Bucket="reelforge").get("Contents", [])}
    assert after == before


def test_health_is_never_limited_and_metrics_are_not_public(strict: Stack) -> None:
    with httpx.Client(base_url=strict.url) as client:
        codes = {client.get("/health").status_code for _ in range(200)}
        assert codes == {200}
        hidden = client.get("/metrics")
        assert hidden.status_code == 404 and hidden.json() == {"detail": "Not Found"}


def test_upload_burst_gets_429_json_with_retry_after(strict: Stack) -> None:
    with httpx.Client(base_url=strict.url) as client:
        responses = [client.post("/api/videos/upload", content=b"x") for _ in range(12)]
    limited = [r for r in responses if r.status_code == 429]
    assert limited, [r.status_code for r in responses]
    assert all(r.json() == {"detail": "Too many requests. Retry later."} for r in limited)
    assert all(r.headers["Retry-After"] == "1" for r in limited)
    assert all(r.status_code in (401, 429) for r in responses)


def test_login_429_says_when_the_zone_admits_the_next_request(strict: Stack) -> None:
    """The auth zone admits one request every 3 s (20r/m): its 429 says 3, and a client that
    waits that long is admitted — not the 1 s that made a polite client retry in a loop."""
    body = {"email": "nobody@example.com", "password": "wrong-password"}
    with httpx.Client(base_url=strict.url) as client:
        responses = [client.post("/api/auth/login", json=body) for _ in range(6)]
        limited = [r for r in responses if r.status_code == 429]
        assert limited, [r.status_code for r in responses]
        assert {r.headers["Retry-After"] for r in limited} == {"3"}
        time.sleep(int(limited[-1].headers["Retry-After"]))
        assert client.post("/api/auth/login", json=body).status_code == 401
    time.sleep(6.5)  # both burst slots back for the module's other sign-ups


def test_forged_forwarded_for_does_not_change_the_limiter_key(strict: Stack) -> None:
    """The app limit (10/minute anonymous) holds though every request claims another IP."""
    time.sleep(1)
    with httpx.Client(base_url=strict.url) as client:
        codes = []
        for i in range(12):
            forged = {"X-Forwarded-For": f"10.0.{i}.{i}, 203.0.113.{i}"}
            codes.append(client.get("/api/public/videos", headers=forged))
    assert [r.status_code for r in codes[:10]] == [200] * 10, [r.status_code for r in codes]
    blocked = codes[10]
    assert blocked.status_code == 429 and blocked.headers.get("Retry-After")
    assert blocked.json()["detail"].startswith("Too many requests: limit is 10 per 1 minute")
    import redis

    server = strict.services.server(Redis)
    assert server is not None
    keys = [k.decode() for k in redis.Redis(port=server.port).keys("*reelforge-rl*")]  # type: ignore[union-attr]
    assert any("ip:127.0.0.1" in k for k in keys), keys
    assert not any("10.0." in k or "203.0.113" in k for k in keys), keys


def test_app_limit_is_shared_by_all_gunicorn_workers(strict: Stack) -> None:
    api = Api(strict.url)
    user = api.signup()
    auth = {"Authorization": f"Bearer {api.token(user['email'])}"}
    codes = []
    for _ in range(11):  # a new connection each time: gunicorn hands them to either worker
        codes.append(httpx.get(strict.base_url + "/api/videos", headers=auth, timeout=10))
    assert [r.status_code for r in codes] == [200] * 10 + [429]
    assert codes[-1].headers.get("Retry-After")
    import redis

    server = strict.services.server(Redis)
    assert server is not None
    client = redis.Redis(port=server.port)
    user_keys = [k for k in client.keys(f"*reelforge-rl*user:{user['id']}/*")]  # this test's user
    assert len(user_keys) == 1 and int(client.get(user_keys[0]) or 0) >= 10


def test_oversize_body_is_413_json_from_nginx(strict: Stack) -> None:
    time.sleep(1.1)
    body = b"\x00" * (3 * 1024 * 1024)
    response = httpx.post(strict.url + "/api/videos/upload", content=body,
                          headers={"Content-Type": "multipart/form-data; boundary=x"}, timeout=30)  # fmt: skip
    assert response.status_code == 413
    assert response.json() == {"detail": "Request body too large"}


def test_what_nginx_refuses_itself_is_json_too(native: Stack) -> None:
    """A 60,000-character query string and oversized headers never reach the API: nginx answers
    them, with the same {"detail": ...} shape as every other error."""
    long_uri = httpx.get(f"{native.url}/api/public/videos?q={'x' * 60_000}", timeout=10)
    assert long_uri.status_code == 414
    assert long_uri.headers["content-type"] == "application/json"
    assert long_uri.json() == {"detail": "Request URI too long"}
    huge = httpx.get(f"{native.url}/api/public/videos", headers={"X-Big": "a" * 40_000},
                     timeout=10)  # fmt: skip
    assert huge.status_code == 400 and huge.json()["detail"].startswith("Bad request")


def test_slow_drip_upload_is_cut_by_nginx(strict: Stack) -> None:
    import socket

    time.sleep(1.1)
    sock = socket.create_connection(("127.0.0.1", strict.edge_port), timeout=10)
    try:
        sock.sendall(
            b"POST /api/videos/upload HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n"
            b"Content-Type: multipart/form-data; boundary=x\r\n\r\n--x\r\n"
        )
        started = time.monotonic()
        data = b""
        while True:  # send nothing more: nginx must give up after RF_UPLOAD_BODY_TIMEOUT (2 s)
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
        waited = time.monotonic() - started
    finally:
        sock.close()
    assert waited < 8, f"connection held for {waited:.1f} s"
    assert data == b"" or data.startswith((b"HTTP/1.1 408", b"HTTP/1.1 400", b"HTTP/1.1 401"))


def test_metrics_after_one_job(native: Stack, edge: Api, clip_small: Path) -> None:
    auth = edge.user()
    edge.processed_video(auth, clip_small)
    api_metrics = httpx.get(native.base_url + "/metrics", timeout=10).text
    assert re.search(
        r'reelforge_http_requests_total\{method="POST",route="/api/videos/upload",status="202"\} [1-9]',
        api_metrics,
    )
    assert re.search(
        r'reelforge_http_request_duration_seconds_count\{method="GET",route="/api/videos/\{video_id\}"\} [1-9]',
        api_metrics,
    )
    assert re.search(r"^reelforge_jobs_created_total [1-9]", api_metrics, re.M)
    assert re.search(r"^reelforge_upload_bytes_total [1-9]", api_metrics, re.M)
    assert re.search(r"^reelforge_jobs_queued \d", api_metrics, re.M)
    assert re.search(r"^reelforge_jobs_processing \d", api_metrics, re.M)
    assert re.search(r"^reelforge_oldest_queued_job_age_seconds \d", api_metrics, re.M)
    assert "reelforge_rate_limited_total" in api_metrics

    worker_metrics = httpx.get(
        f"http://127.0.0.1:{native.worker_metrics_port}/metrics", timeout=10
    ).text
    assert re.search(
        r'reelforge_worker_outcomes_total\{outcome="processed",reason="ok"\} [1-9]', worker_metrics
    )
    assert re.search(
        r'reelforge_worker_task_duration_seconds_count\{outcome="processed"\} [1-9]', worker_metrics
    )
    factor = re.search(
        r"^reelforge_worker_ffmpeg_realtime_factor_sum ([0-9.e+]+)", worker_metrics, re.M
    )
    assert factor and float(factor.group(1)) > 0

    ready = httpx.get(f"http://127.0.0.1:{native.worker_metrics_port}/ready", timeout=10)
    assert ready.status_code == 200, ready.text
    assert ready.json() == {"status": "ok", "checks": {c: {"status": "ok"} for c in
                                                       ("database", "broker", "ffmpeg")}}  # fmt: skip


def test_request_id_followed_across_tiers(native: Stack, edge: Api, clip_small: Path) -> None:
    auth = edge.user()
    rid = f"trace-{uuid.uuid4().hex}"
    response = edge.upload(auth, clip_small, headers={**auth, "X-Request-ID": rid})
    assert response.status_code == 202 and response.headers["X-Request-ID"] == rid
    video_id = response.json()["video_id"]
    assert edge.wait_for(auth, video_id)["status"] == "processed"
    time.sleep(0.5)
    assert rid in native.log("nginx-access")
    api_lines = [line for line in native.log("api").splitlines() if rid in line]
    assert any(f"video {video_id} accepted" in line for line in api_lines), api_lines
    worker_lines = [line for line in native.log("worker").splitlines() if rid in line]
    assert any(f"video {video_id}: processed" in line for line in worker_lines), worker_lines[-3:]
    generated = httpx.get(native.url + "/api/public/videos", timeout=10).headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", generated)
