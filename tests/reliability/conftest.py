"""Stacks built per test, each with its own database and Redis, so faults stay contained."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from tests.harness import Redis, Stack, create_database, stack_env

FAST_RECOVERY = {
    "LEASE_SECONDS": "6",
    "RESEND_AFTER_SECONDS": "3",
    "RECONCILE_INTERVAL_SECONDS": "1",
    "RETRY_BACKOFF_SECONDS": "0.5",
    "PROGRESS_INTERVAL_SECONDS": "0.5",
    "MAX_ATTEMPTS": "3",
}


class FaultStack(Stack):
    redis: Redis

    def db(self) -> psycopg.Connection:
        url = self.env["DATABASE_URL"].replace("postgresql+asyncpg", "postgresql")
        return psycopg.connect(url, autocommit=True)

    def attempts(self, video_id: int) -> int:
        with self.db() as conn:
            row = conn.execute("SELECT attempts FROM video WHERE id = %s", (video_id,)).fetchone()
        assert row is not None
        return int(row[0])

    def output_attempts(self, video_id: int) -> list[str]:
        folder = self.storage_dir / "outputs" / str(video_id)
        return sorted(p.name for p in folder.iterdir()) if folder.exists() else []

    def ffmpeg_pids(self) -> list[int]:
        """FFmpeg processes working on this stack's files (never the suite's other ones)."""
        marker = self.env["TEMP_DIR"].encode()
        pids = []
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            try:
                cmdline = (proc / "cmdline").read_bytes()
            except OSError:
                continue
            if b"ffmpeg" in cmdline and marker in cmdline:
                pids.append(int(proc.name))
        return pids

    def kill_worker_group(self) -> None:
        assert self.worker is not None and self.worker.proc is not None
        os.killpg(self.worker.proc.pid, signal.SIGKILL)
        self.worker.proc.wait()


@pytest.fixture
def make_stack(
    workdir: Path, postgres_url: str, request: pytest.FixtureRequest
) -> Iterator[Callable[..., FaultStack]]:
    stacks: list[FaultStack] = []

    def make(
        *, worker: bool = True, api_env: dict[str, str] | None = None, **env: str
    ) -> FaultStack:
        root = workdir / f"{request.node.name}-{len(stacks)}"
        redis = Redis().start()
        settings = stack_env(
            root, create_database(postgres_url), redis.url, **{**FAST_RECOVERY, **env}
        )
        stack = FaultStack(env=settings, root=root)
        stack.redis = redis
        stacks.append(stack)
        stack.migrate()
        if api_env:  # the API process alone sees these (e.g. a broker it cannot reach)
            stack.env = {**settings, **api_env}
            stack.start_api()
            stack.env = settings
        else:
            stack.start_api()
        if worker:
            stack.start_worker()
        return stack

    yield make
    for stack in stacks:
        stack.stop()
        stack.redis.stop()
        if os.environ.get("REELFORGE_TEST_LOGS"):
            for proc in (stack.api, stack.worker):
                if proc is not None:
                    print(f"---- {proc.name} ----\n{proc.log_text()[-4000:]}")


@pytest.fixture(scope="session")
def clip_20s(media: Path) -> Path:
    from tests.media import make_clip

    return make_clip(media / "clip-20s-720p.mp4", seconds=20, width=1280, height=720, audio=False)
