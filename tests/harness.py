"""Throwaway real servers for the suite: Postgres, Redis, and the service's own processes.

Nothing here is mocked. A binary that is missing fails the run loudly (make test installs them).
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
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


def wait_until(predicate, timeout: float, what: str, interval: float = 0.1):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    raise HarnessError(f"timed out after {timeout:g} s waiting for {what}")


@contextmanager
def silent_listener() -> Iterator[tuple[int, list[object]]]:
    """A local port that must receive no connection: yields (port, connections seen)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(4)
    sock.settimeout(0.2)
    seen: list[object] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                seen.append(sock.accept())
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield sock.getsockname()[1], seen
    finally:
        stop.set()
        thread.join()
        sock.close()


class Postgres:
    """initdb + pg_ctl on a free port in a temp dir; runs as the `postgres` user when we are root."""

    def __init__(self) -> None:
        self.initdb = require_binary("initdb", "/usr/lib/postgresql/*/bin/initdb")
        self.pg_ctl = str(Path(self.initdb).with_name("pg_ctl"))
        self.root = Path(tempfile.mkdtemp(prefix="reelforge-pg-"))
        self.port = free_port()
        self.as_postgres = os.geteuid() == 0

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
        return self

    def stop_server(self) -> None:
        """Stop (fast shutdown) keeping the data, to test an outage."""
        self._run(self.pg_ctl, "-D", str(self.root / "data"), "-m", "fast", "stop")

    def start_server(self) -> None:
        opts = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
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

    def start(self) -> Redis:
        self.proc = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.dir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        import redis

        client = redis.Redis(port=self.port, socket_timeout=1)
        wait_until(lambda: _ping(client), 20, "redis-server")
        return self

    def restart_empty(self) -> None:
        """Kill (no persistence) and start again on the same port: every message is gone."""
        self.stop()
        self.dir.mkdir(parents=True, exist_ok=True)
        self.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        if self.proc:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def _ping(client) -> bool:  # type: ignore[no-untyped-def]
    try:
        return bool(client.ping())
    except Exception:
        return False


@dataclass
class Process:
    name: str
    cmd: list[str]
    env: dict[str, str]
    log: Path
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Process:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        out = open(self.log, "ab")  # noqa: SIM115 - handed to the child
        self.proc = subprocess.Popen(
            self.cmd, cwd=REPO, env=self.env, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        out.close()
        return self

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = 20) -> None:
        if not self.alive():
            return
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def wait_for_log(self, text: str, timeout: float) -> None:
        try:
            wait_until(lambda: text in self.log_text(), timeout, f"{text!r} in the {self.name} log")
        except HarnessError as exc:
            raise AssertionError(f"{exc}\n{self.log_text()[-2000:]}") from None


@dataclass
class Stack:
    """API (uvicorn) + Celery worker over one database, broker and storage dir."""

    env: dict[str, str]
    root: Path
    port: int = field(default_factory=free_port)
    api: Process | None = None
    worker: Process | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def storage_dir(self) -> Path:
        return Path(self.env["STORAGE_DIR"])

    def migrate(self) -> None:
        result = subprocess.run(
            [str(VENV_BIN / "alembic"), "upgrade", "head"], cwd=REPO, env=self.env,
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        if result.returncode != 0:
            raise HarnessError(f"migrations failed:\n{result.stderr[-3000:]}")

    def start_api(self) -> None:
        self.api = Process(
            "api",
            [str(VENV_BIN / "uvicorn"), "app.main:app", "--host", "127.0.0.1", "--port", str(self.port)],
            self.env, self.root / "logs" / "api.log",
        ).start()  # fmt: skip
        wait_until(self._healthy, 30, f"API on {self.base_url}")

    def _healthy(self) -> bool:
        if self.api is not None and not self.api.alive():
            raise HarnessError(f"API exited:\n{self.api.log_text()[-3000:]}")
        try:
            return httpx.get(self.base_url + "/health", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def start_worker(self) -> None:
        name = f"w{uuid.uuid4().hex[:6]}@%h"
        self.worker = Process(
            "worker",
            [str(VENV_BIN / "celery"), "-A", "worker.celery_app", "worker", "-Q", "videos",
             "-c", self.env.get("WORKER_CONCURRENCY", "1"), "-n", name, "--loglevel", "INFO",
             "--without-gossip", "--without-mingle", "--without-heartbeat"],
            self.env, self.root / "logs" / "worker.log",
        ).start()  # fmt: skip
        start = len(self.worker.log_text())
        wait_until(
            lambda: self._worker_ready(start), 60, "the Celery worker to report ready", interval=0.2
        )

    def _worker_ready(self, offset: int) -> bool:
        assert self.worker is not None
        if not self.worker.alive():
            raise HarnessError(f"worker exited:\n{self.worker.log_text()[-3000:]}")
        return " ready." in self.worker.log_text()[offset:]

    def stop(self) -> None:
        for proc in (self.worker, self.api):
            if proc is not None:
                proc.stop()


def stack_env(root: Path, database_url: str, broker_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "CELERY_"))}
    env.update(
        ENVIRONMENT="test",
        VAR_DIR=str(root / "var"),
        DATABASE_URL=database_url,
        CELERY_BROKER_URL=broker_url,
        BROKER_DIR=str(root / "broker"),
        STORAGE_DIR=str(root / "storage"),
        TEMP_DIR=str(root / "tmp"),
        JWT_SECRET=uuid.uuid4().hex,
        BCRYPT_ROUNDS="4",
        MAX_UPLOAD_BYTES=str(8 * 1024 * 1024),
        PROGRESS_INTERVAL_SECONDS="0.5",
        RECONCILE_INTERVAL_SECONDS="2",
        RESEND_AFTER_SECONDS="10",
        LEASE_SECONDS="20",
        RETRY_BACKOFF_SECONDS="1",
        WORKER_CONCURRENCY="1",
        WORKER_METRICS_PORT=str(free_port()),
        PYTHONUNBUFFERED="1",
        # Functional tests make many requests from one IP; the rate-limit tests set their own.
        RATE_LIMIT_DEFAULT="100000/minute",
        RATE_LIMIT_UPLOAD="100000/minute",
        RATE_LIMIT_AUTH="100000/minute",
    )
    env.update(extra)
    (root / "tmp").mkdir(parents=True, exist_ok=True)
    (root / "var").mkdir(parents=True, exist_ok=True)
    return env


class S3Server:
    """moto's S3-compatible server: real HTTP, real multipart uploads and presigned URLs."""

    def __init__(self, root: Path) -> None:
        self.binary = require_binary("moto_server", str(VENV_BIN / "moto_server"))
        self.port = free_port()
        self.proc = Process("s3", [self.binary, "-H", "127.0.0.1", "-p", str(self.port)],
                            dict(os.environ), root / "logs" / "s3.log")  # fmt: skip

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
        return self

    def stop(self) -> None:
        self.proc.stop()
