"""`make run` never leaves servers behind (devstack/lifeline.py): SIGKILL of `python -m devstack`
— a terminal closed hard, an evaluation script's `kill -9` — takes the API and the Celery worker
with it within 5 s; SIGHUP (the terminal closed) stops it cleanly like Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from devstack.servers import REPO, free_port, wait_until


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture
def devstack(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], list[psutil.Process]]]:
    port = free_port()
    env = {**os.environ, "DEVSTACK_DIR": str(tmp_path), "PORT": str(port), "ENVIRONMENT": "dev"}
    out = tmp_path / "devstack.out"
    with out.open("wb") as sink:
        proc = subprocess.Popen([sys.executable, "-m", "devstack", "run"], cwd=REPO, env=env,
                                stdout=sink, stderr=subprocess.STDOUT)  # fmt: skip
    try:
        # The banner comes once the API answers and both Celery workers are up.
        wait_until(lambda: b"Ctrl-C stops everything" in out.read_bytes(), 120, "the devstack")
        assert _answers(f"http://127.0.0.1:{port}/health")
        servers = psutil.Process(proc.pid).children(recursive=True)
        yield proc, servers
    finally:
        for child in (
            psutil.Process(proc.pid).children(recursive=True) if proc.poll() is None else []
        ):
            child.kill()
        proc.kill()
        proc.wait()


def _left(servers: list[psutil.Process], within: float) -> list[str]:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        alive = [s for s in servers if s.is_running() and s.status() != psutil.STATUS_ZOMBIE]
        if not alive:
            return []
        time.sleep(0.1)
    return [" ".join(s.cmdline()[:3]) for s in servers if s.is_running()]


def test_sigkill_of_the_devstack_leaves_no_server(
    devstack: tuple[subprocess.Popen[bytes], list[psutil.Process]],
) -> None:
    proc, servers = devstack
    names = " ".join(" ".join(s.cmdline()) for s in servers)
    assert "uvicorn" in names and "celery" in names, names
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert _left(servers, within=5) == []


def test_sighup_stops_the_devstack_cleanly(
    devstack: tuple[subprocess.Popen[bytes], list[psutil.Process]],
) -> None:
    proc, servers = devstack
    proc.send_signal(signal.SIGHUP)
    assert proc.wait(timeout=20) == 0
    assert _left(servers, within=5) == []


_OWNER = """
import sys, time
from devstack.servers import Postgres, Redis
pg, redis = Postgres().start(), Redis().start()
print(pg.postmaster_pid(), redis.proc.pid, flush=True)
time.sleep(300)
"""


def test_sigkill_of_whoever_started_postgres_and_redis_stops_them() -> None:
    """What a SIGKILLed test session or `python -m bench` leaves: their Postgres (daemonized by
    pg_ctl, so no child of theirs) and Redis are stopped by their guards."""
    owner = subprocess.Popen([sys.executable, "-c", _OWNER], cwd=REPO, stdout=subprocess.PIPE)
    try:
        assert owner.stdout is not None
        postmaster, redis = (int(pid) for pid in owner.stdout.readline().split())
        servers = [psutil.Process(postmaster), psutil.Process(redis)]
    finally:
        owner.kill()
        owner.wait()
    assert _left(servers, within=5) == []
