"""Session fixtures: real Postgres, Redis, API and worker processes, and generated media."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api_client import Api
from tests.harness import Postgres, Redis, Stack, create_database, require_binary, stack_env
from tests.media import make_clip


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


def _run_stack(env: dict[str, str], root: Path) -> Iterator[Stack]:
    stack = Stack(env=env, root=root)
    stack.migrate()
    try:
        stack.start_api()
        stack.start_worker()
        yield stack
    finally:
        stack.stop()
        for proc in (stack.api, stack.worker):
            if proc is not None and os.environ.get("REELFORGE_TEST_LOGS"):
                print(f"---- {proc.name} log ----\n{proc.log_text()[-5000:]}")


@pytest.fixture(scope="session")
def pg_stack(workdir: Path, postgres_url: str, redis_url: str) -> Iterator[Stack]:
    """Production mode: Postgres (asyncpg) + Redis broker."""
    root = workdir / "pg-stack"
    env = stack_env(root, create_database(postgres_url), redis_url)
    yield from _run_stack(env, root)


@pytest.fixture(scope="session")
def embedded_stack(workdir: Path) -> Iterator[Stack]:
    """The `make run` default: SQLite + Celery's filesystem broker."""
    root = workdir / "embedded-stack"
    env = stack_env(root, f"sqlite+aiosqlite:///{root}/var/reelforge.db", "filesystem://")
    yield from _run_stack(env, root)


@pytest.fixture(scope="session")
def api(pg_stack: Stack) -> Api:
    return Api(pg_stack.base_url)
