"""`Stack`: the one builder of a running reelforge — migrations, the API (uvicorn, or gunicorn
through the same entrypoint as the images), a Celery worker (the images' entrypoint), and
optionally nginx in front — over `Services` (database, broker, S3 or a local folder).

Each tier gets its own var/, tmp/ and metrics folders; with S3 nothing on disk is shared. The
worker counts as started when its metrics endpoint answers (it is served from `worker_ready`).
"""

from __future__ import annotations

import os
import secrets
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from itertools import count
from pathlib import Path
from typing import Literal

import httpx
from prometheus_client.parser import text_string_to_metric_families

from app.web.mount import STATIC as WEB_ROOT
from app.web.policy import content_security_policy, origin_of
from devstack import nginx
from devstack.servers import (
    REPO,
    VENV_BIN,
    HarnessError,
    Process,
    free_port,
    require_binary,
    wait_until,
)
from devstack.services import S3_KEYS, Services

ENTRYPOINTS = REPO / "docker" / "entrypoints"


_starts = count()


@dataclass
class Stack:
    root: Path
    services: Services
    api_server: Literal["uvicorn", "gunicorn"] = "uvicorn"
    edge: bool = False  # nginx in front, on edge_port
    settings: dict[str, str] = field(default_factory=dict)  # both tiers
    api_settings: dict[str, str] = field(default_factory=dict)  # the API alone
    nginx_settings: dict[str, str] = field(default_factory=dict)  # RF_* overrides
    port: int = field(default_factory=free_port)
    edge_port: int = field(default_factory=free_port)
    worker_metrics_port: int = field(default_factory=free_port)
    gunicorn_workers: int = 2
    console: bool = False  # processes write to this terminal (`make run`)
    # A fresh random secret per stack; None leaves JWT_SECRET to the environment / .env.
    jwt_secret: str | None = field(default_factory=lambda: secrets.token_urlsafe(32))
    processes: dict[str, Process] = field(default_factory=dict)
    repo: Path = REPO  # the checkout whose code the processes run (another one: bench/cpu.py)

    # ---------------------------------------------------------------- addresses and env ----
    @property
    def base_url(self) -> str:
        """The API itself (uvicorn/gunicorn), bypassing nginx."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        """Where a user connects: nginx when there is an edge, else the API."""
        return f"http://127.0.0.1:{self.edge_port}" if self.edge else self.base_url

    @property
    def storage_dir(self) -> Path:
        return self.root / "storage"

    def temp_dir(self, tier: str) -> Path:
        return self.root / tier / "tmp"

    @property
    def env(self) -> dict[str, str]:
        """Settings both tiers share: where the data lives, and the stack's own choices."""
        s = self.services
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "CELERY_"))}
        env["PATH"] = f"{VENV_BIN}:{env.get('PATH', '')}"
        env.update(
            DATABASE_URL=s.database_url,
            CELERY_BROKER_URL=s.broker_url,
            BROKER_DIR=str(self.root / "broker"),
            WORKER_METRICS_ADDR="127.0.0.1",
            PYTHONUNBUFFERED="1",
        )
        if s.s3_url:
            env.update(STORAGE_BACKEND="s3", S3_ENDPOINT_URL=s.s3_url, S3_BUCKET="reelforge",
                       **S3_KEYS)  # fmt: skip
        else:
            env.update(STORAGE_BACKEND="local", STORAGE_DIR=str(self.storage_dir))
        if self.jwt_secret is not None:
            env["JWT_SECRET"] = self.jwt_secret
        env.update(self.settings)
        return env

    def tier_env(self, tier: str, **extra: str) -> dict[str, str]:
        """Each tier gets its own local folders, and fresh metrics files on every start."""
        env = self.env
        base = self.root / tier
        metrics = base / f"metrics-{next(_starts)}"
        for folder in (base / "var", base / "tmp", metrics):
            folder.mkdir(parents=True, exist_ok=True)
        env.update(VAR_DIR=str(base / "var"), TEMP_DIR=str(base / "tmp"),
                   PROMETHEUS_MULTIPROC_DIR=str(metrics), **extra)  # fmt: skip
        if tier == "api":
            env.update(self.api_settings)
        return env

    # ---------------------------------------------------------------- lifecycle -------------
    def start(self, *, worker: bool = True) -> Stack:
        self.migrate()
        self.start_api()
        if worker:
            self.start_worker()
            self.start_webhooks()
        if self.edge:
            self.start_edge()
        return self

    def migrate(self) -> None:
        result = subprocess.run([self._entrypoint("migrate.sh")], cwd=self.repo, env=self.tier_env("api"),
                                capture_output=True, text=True, timeout=120)  # fmt: skip
        if result.returncode != 0:
            raise HarnessError(f"migrations failed:\n{result.stderr[-3000:]}")

    def start_api(self) -> None:
        if self.api_server == "gunicorn":
            cmd = [self._entrypoint("api.sh")]
            extra = {"GUNICORN_BIND": f"127.0.0.1:{self.port}",
                     "GUNICORN_WORKERS": str(self.gunicorn_workers)}  # fmt: skip
        else:
            cmd = [str(VENV_BIN / "uvicorn"), "app.main:app", "--host", "127.0.0.1",
                   "--port", str(self.port)]  # fmt: skip
            if not self.edge:  # no proxy in front: no client may set X-Forwarded-For
                cmd.append("--no-proxy-headers")
            extra = {}
        env = self.tier_env("api", FORWARDED_ALLOW_IPS="127.0.0.1", **extra)
        self._start("api", cmd, env)
        wait_until(lambda: self._answers(self.base_url + "/health", "api"), 60, "the API")

    def start_worker(self) -> None:
        env = self.tier_env("worker", WORKER_METRICS_PORT=str(self.worker_metrics_port),
                            WORKER_NAME=f"w{uuid.uuid4().hex[:6]}@%h")  # fmt: skip
        self._start("worker", [self._entrypoint("worker.sh")], env)
        url = f"http://127.0.0.1:{self.worker_metrics_port}/metrics"
        wait_until(lambda: self._answers(url, "worker"), 60, "the Celery worker", interval=0.2)

    def start_webhooks(self) -> None:
        """The webhook deliverer (a threaded Celery worker on the webhooks queue)."""
        env = self.tier_env("worker", WEBHOOK_WORKER_NAME=f"hooks{uuid.uuid4().hex[:6]}@%h",
                            WEBHOOK_CONCURRENCY="4")  # fmt: skip
        self._start("webhooks", [self._entrypoint("webhooks.sh")], env)

    def start_edge(self) -> None:
        binary = require_binary("nginx", "/usr/sbin/nginx")
        media = [origin_of(self.services.s3_url)] if self.services.s3_url else []
        web = {"RF_WEB_ROOT": str(WEB_ROOT), "RF_CSP": content_security_policy(media)}
        conf = nginx.write_config(self.root / "nginx", f"127.0.0.1:{self.edge_port}",
                                  f"127.0.0.1:{self.port}", {**web, **self.nginx_settings})  # fmt: skip
        cmd = [binary, "-p", str(conf.parent), "-c", str(conf), "-g", "daemon off;"]
        self._start("nginx", cmd, dict(os.environ))
        wait_until(lambda: self._answers(self.url + "/health", "nginx"), 30, f"nginx on {self.url}")

    def stop_worker(self) -> None:
        if self.worker is not None:
            self.worker.stop()

    def kill_worker(self) -> None:
        """SIGKILL the worker and its children at once, as a crash or the OOM killer would."""
        if self.worker is not None:
            self.worker.kill()

    def stop(self) -> None:
        self.stop_processes()
        self.services.stop()

    def stop_processes(self) -> None:
        """This stack's own processes, leaving the data services running (another stack may
        share them: the benchmark's floor endpoint shares reelforge's)."""
        running = [self.processes[n] for n in ("nginx", "webhooks", "worker", "api")
                   if n in self.processes]  # fmt: skip
        for process in running:  # all at once: a stop takes the slowest one's time, not the sum
            process.terminate()
        deadline = time.monotonic() + 20
        for process in running:
            process.finish(deadline)

    # ---------------------------------------------------------------- what tests look at ----
    @property
    def api(self) -> Process | None:
        return self.processes.get("api")

    @property
    def worker(self) -> Process | None:
        return self.processes.get("worker")

    def log(self, name: str) -> str:
        if name == "nginx-access":
            path = self.root / "nginx" / "access.log"
            return path.read_text() if path.exists() else ""
        return self.processes[name].log_text()

    def worker_metric(self, name: str, **labels: str) -> float:
        """A sample of the worker's Prometheus metrics (0.0 when it has not been recorded)."""
        text = httpx.get(f"http://127.0.0.1:{self.worker_metrics_port}/metrics", timeout=5).text
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == name and all(
                    sample.labels.get(k) == v for k, v in labels.items()
                ):
                    return float(sample.value)
        return 0.0

    def _entrypoint(self, script: str) -> str:
        return str(self.repo / ENTRYPOINTS.relative_to(REPO) / script)

    def _start(self, name: str, cmd: list[str], env: dict[str, str]) -> None:
        """Start `name`; whatever is left of an earlier one (a main process that died leaves its
        children; a start that never answered leaves itself) is killed first, group and all."""
        if name in self.processes:
            self.processes[name].kill()
        log = self.root / "logs" / f"{name}.log"
        self.processes[name] = Process(name, cmd, env, log, console=self.console,
                                       cwd=self.repo).start()  # fmt: skip

    def _answers(self, url: str, name: str) -> bool:
        if not self.processes[name].alive():
            raise HarnessError(f"{name} exited:\n{self.processes[name].log_text()[-3000:]}")
        try:
            return httpx.get(url, timeout=1).status_code == 200
        except httpx.HTTPError:
            return False
