"""Throwaway real servers — Postgres, Redis, an S3-compatible server (moto) — and one managed
child process (its own session, log file or console, graceful stop). Nothing is mocked; a
missing binary fails loudly (`make test` installs them)."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from devstack.lifeline import dismiss, guard
from devstack.process import REPO as REPO  # re-exported: where every stack runs from
from devstack.process import Process as Process

VENV_BIN = Path(sys.executable).parent


class HarnessError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def require_binary(name: str, *fallback_globs: str) -> str:
    found = shutil.which(name)
    for pattern in fallback_globs:
        found = found or next(iter(sorted(glob.glob(pattern))), None)
    if not found:
        raise HarnessError(f"{name} is not installed; run `make test` (it installs it)")
    return found


def wait_until(
    predicate: Callable[[], Any], timeout: float, what: str, interval: float = 0.1
) -> Any:
    """The predicate's first true value, polled every `interval` s; HarnessError after timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    raise HarnessError(f"timed out after {timeout:g} s waiting for {what}")


class Postgres:
    """initdb + pg_ctl on a free port in a temp dir (as the `postgres` user when we are root)."""

    def __init__(self) -> None:
        self.initdb = require_binary("initdb", "/usr/lib/postgresql/*/bin/initdb")
        self.pg_ctl = str(Path(self.initdb).with_name("pg_ctl"))
        self.root = Path(tempfile.mkdtemp(prefix="reelforge-pg-"))
        self.port = free_port()
        self.as_postgres = os.geteuid() == 0
        self.guard: subprocess.Popen[bytes] | None = None

    def _run(self, *args: str) -> None:
        cmd = list(args)
        if self.as_postgres:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, check=True, capture_output=True, timeout=120)

    def start(self) -> Postgres:
        if self.as_postgres:
            shutil.chown(self.root, "postgres")
        data = self.root / "data"
        self._run(self.initdb, "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync")
        self.start_server()
        stop = [self.pg_ctl, "-D", str(data), "-m", "immediate", "stop"]
        self.guard = guard(["runuser", "-u", "postgres", "--", *stop] if self.as_postgres else stop)
        return self

    def alive(self) -> bool:
        """The postmaster is running (its pid file names a live process)."""
        try:
            pid = int((self.root / "data" / "postmaster.pid").read_text().split()[0])
            os.kill(pid, 0)
            return True
        except (OSError, ValueError, IndexError):
            return False

    def postmaster_pid(self) -> int | None:
        try:
            return int((self.root / "data" / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def crash(self) -> None:
        """Stop at once (`-m immediate`, as a crash): the data stays; recovery runs on start."""
        self._run(self.pg_ctl, "-D", str(self.root / "data"), "-m", "immediate", "stop")

    def stop_server(self) -> None:
        """Stop (fast shutdown) keeping the data, to test an outage."""
        self._run(self.pg_ctl, "-D", str(self.root / "data"), "-m", "fast", "stop")

    def start_server(self) -> None:
        # fsync off (a throwaway server need not survive the machine crashing), but commits stay
        # synchronous: a commit is written to the kernel before it returns, so a crash of
        # Postgres itself (`-m immediate`, the chaos soak) never loses an acknowledged upload —
        # with synchronous_commit=off it did (one in a 15-minute soak).
        opts = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c full_page_writes=off -c max_connections=200"
        )
        self._run(
            self.pg_ctl,
            "-D",
            str(self.root / "data"),
            "-o",
            opts,
            "-l",
            str(self.root / "log"),
            "-w",
            "start",
        )

    def url(self, database: str = "postgres", driver: str = "asyncpg") -> str:
        return f"postgresql+{driver}://postgres@127.0.0.1:{self.port}/{database}"

    def stop(self) -> None:
        try:
            self._run(self.pg_ctl, "-D", str(self.root / "data"), "-m", "immediate", "stop")
        finally:
            dismiss(self.guard)
            shutil.rmtree(self.root, ignore_errors=True)


def create_database(server_url: str) -> str:
    """A fresh database on the same server; returns its asyncpg URL."""
    import psycopg

    name = f"rf_{uuid.uuid4().hex[:12]}"
    dsn = server_url.replace("postgresql+asyncpg", "postgresql")
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return server_url.rsplit("/", 1)[0] + f"/{name}"


class Redis:
    def __init__(self) -> None:
        self.binary = require_binary("redis-server")
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="reelforge-redis-"))
        self.proc: subprocess.Popen[bytes] | None = None
        self.guard: subprocess.Popen[bytes] | None = None

    def start(self) -> Redis:
        self.proc = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.dir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        self.guard = guard(["kill", "-TERM", str(self.proc.pid)])
        import redis

        client = redis.Redis(port=self.port, socket_timeout=1)
        wait_until(lambda: _ping(client), 20, "redis-server")
        return self

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def restart_empty(self, down_seconds: float = 0) -> None:
        """Kill (no persistence), stay down `down_seconds`, start again on the same port: every
        message is gone."""
        self.stop()
        time.sleep(down_seconds)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        if self.proc:
            self.proc.kill()
            self.proc.wait()
        dismiss(self.guard)
        shutil.rmtree(self.dir, ignore_errors=True)


def _ping(client: Any) -> bool:
    try:
        return bool(client.ping())
    except Exception:
        return False


class S3Server:
    """moto's S3-compatible server: real HTTP, real multipart uploads and presigned URLs."""

    def __init__(self, root: Path) -> None:
        self.binary = require_binary("moto_server", str(VENV_BIN / "moto_server"))
        self.port = free_port()
        self.proc = Process("s3", [self.binary, "-H", "127.0.0.1", "-p", str(self.port)],
                            dict(os.environ), root / "logs" / "s3.log")  # fmt: skip
        self.bucket = "reelforge"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, bucket: str) -> S3Server:
        self.proc.start()
        import boto3

        client = boto3.client(
            "s3", endpoint_url=self.url, region_name="us-east-1",
            aws_access_key_id="reelforge", aws_secret_access_key="reelforge-secret",
        )  # fmt: skip

        def ready() -> bool:
            try:
                client.list_buckets()
                return True
            except Exception:
                return False

        wait_until(ready, 30, "the S3 server")
        client.create_bucket(Bucket=bucket)
        self.bucket = bucket
        return self

    def restart(self) -> None:
        """Start again after it exited: moto keeps objects in memory, so they are gone."""
        self.start(self.bucket)

    def stop(self) -> None:
        self.proc.stop()
