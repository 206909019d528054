"""Session fixtures: real Postgres, Redis, API and worker processes (all through devstack, the
one stack builder), and generated media."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack.servers import Postgres, Redis, require_binary
from devstack.services import Services
from devstack.stack import Stack
from tests.api_client import Api
from tests.media import make_clip, make_noise_clip

# What every test stack runs with: fast hashing, a small upload limit, quick progress and
# recovery, one worker slot, and limits no functional test trips (the rate-limit tests set theirs).
TEST_SETTINGS = {
    "ENVIRONMENT": "test",
    "BCRYPT_ROUNDS": "4",
    "MAX_UPLOAD_BYTES": str(8 * 1024 * 1024),
    "PROGRESS_INTERVAL_SECONDS": "0.5",
    "RECONCILE_INTERVAL_SECONDS": "2",
    "RESEND_AFTER_SECONDS": "10",
    "LEASE_SECONDS": "20",
    "RETRY_SCHEDULE_SECONDS": "1,2,4",
    "WORKER_CONCURRENCY": "1",
    "RATE_LIMIT_DEFAULT": "100000/minute",
    "RATE_LIMIT_UPLOAD": "100000/minute",
    "RATE_LIMIT_AUTH": "100000/minute",
    "RATE_LIMIT_TUS": "100000/minute",
    "LOGIN_FAILURES_PER_ACCOUNT": "100000/minute",
    # Quotas and per-user upload slots off: functional tests upload a lot as one user (the
    # quota and slot tests set their own).
    "MAX_QUEUED_JOBS_PER_USER": "0",
    "MAX_STORED_BYTES_PER_USER": "0",
    "UPLOADS_MAX_PER_USER": "0",
    # Webhooks to the tests' own receivers on 127.0.0.1, retried and given up on in seconds.
    "WEBHOOK_ALLOW_HTTP": "true",
    "WEBHOOK_ALLOW_PRIVATE_NETWORKS": "true",
    "WEBHOOK_RETRY_SCHEDULE_SECONDS": "[1, 1, 1]",
    "WEBHOOK_DISABLE_AFTER_FAILURES": "4",
    "WEBHOOK_TIMEOUT_SECONDS": "2",
    "WEBHOOK_RESEND_AFTER_SECONDS": "4",
    # The browser test's player page is served from another origin (tests/e2e/test_hls_browser.py)
    "CORS_ALLOW_ORIGINS": '["http://localhost:8979"]',
}


@pytest.fixture(scope="session")
def workdir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="reelforge-test-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def media(workdir: Path) -> Path:
    require_binary("ffmpeg")
    require_binary("ffprobe")
    folder = workdir / "media"
    folder.mkdir()
    return folder


@pytest.fixture(scope="session")
def clip_5s(media: Path) -> Path:
    """5 s, 1920×1080, with an audio track."""
    return make_clip(media / "clip-5s-1080p.mp4", seconds=5, width=1920, height=1080)


@pytest.fixture(scope="session")
def clip_small(media: Path) -> Path:
    return make_clip(media / "clip-2s-small.mp4", seconds=2, width=320, height=240, audio=False)


@pytest.fixture(scope="session")
def clip_1080p_sound(media: Path) -> Path:
    """10 s, 1920×1080 at 15 fps, with sound: profiles that keep the source's size and sound."""
    return make_clip(
        media / "clip-10s-1080p-sound.mp4", seconds=10, width=1920, height=1080, fps=15
    )


@pytest.fixture(scope="session")
def clip_720p_sound(media: Path) -> Path:
    """2 s, 1280×720 at 15 fps, with sound: a cheap source for a 3-rendition HLS ladder."""
    return make_clip(media / "clip-2s-720p-sound.mp4", seconds=2, width=1280, height=720, fps=15)


@pytest.fixture(scope="session")
def clip_noise(media: Path) -> Path:
    """≈ 8 MiB of real video: more than one 5 MiB S3 part."""
    return make_noise_clip(media / "clip-2s-noise.mp4")


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    if url := os.environ.get("TEST_DATABASE_URL"):
        yield url
        return
    server = Postgres().start()
    try:
        yield server.url()
    finally:
        server.stop()


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    if url := os.environ.get("TEST_REDIS_URL"):
        yield url
        return
    server = Redis().start()
    try:
        yield server.url
    finally:
        server.stop()


def run_stack(stack: Stack) -> Iterator[Stack]:
    try:
        yield stack.start()
    finally:
        stack.stop()
        if os.environ.get("REELFORGE_TEST_LOGS"):
            for proc in stack.processes.values():
                print(f"---- {stack.root.name} {proc.name} ----\n{proc.log_text()[-5000:]}")


@pytest.fixture(scope="session")
def pg_stack(workdir: Path, postgres_url: str, redis_url: str) -> Iterator[Stack]:
    """Production mode: Postgres (asyncpg) + Redis broker."""
    root = workdir / "pg-stack"
    services = Services.start(root, postgres=postgres_url, redis=redis_url)
    yield from run_stack(Stack(root, services, settings=dict(TEST_SETTINGS)))


@pytest.fixture(scope="session")
def embedded_stack(workdir: Path) -> Iterator[Stack]:
    """The `make run` default: SQLite + Celery's filesystem broker."""
    root = workdir / "embedded-stack"
    yield from run_stack(Stack(root, Services.embedded(root), settings=dict(TEST_SETTINGS)))


@pytest.fixture(scope="session")
def api(pg_stack: Stack) -> Api:
    return Api(pg_stack.base_url)


FAST_DIRS = ("unit", "fast")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """tests/unit and tests/fast run in-process (`-m fast`, `make test-fast`); everything else
    starts real servers (`-m servers`)."""
    for item in items:
        tier = item.path.relative_to(Path(__file__).parent).parts[0]
        item.add_marker(pytest.mark.fast if tier in FAST_DIRS else pytest.mark.servers)
        if tier == "docker":
            item.add_marker(pytest.mark.docker)
