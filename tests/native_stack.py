"""The production-shaped stack, natively (no Docker): nginx → gunicorn (≥2 workers) → Postgres,
Redis, S3; a Celery worker with its own local directories. `make stack` and the topology tests
both use this, and both run the same entrypoint scripts as the compose files."""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.harness import (
    REPO,
    VENV_BIN,
    HarnessError,
    Postgres,
    Process,
    Redis,
    S3Server,
    create_database,
    free_port,
    require_binary,
    wait_until,
)

API_ENTRYPOINT = REPO / "docker" / "entrypoints" / "api.sh"
WORKER_ENTRYPOINT = REPO / "docker" / "entrypoints" / "worker.sh"
MIGRATE_ENTRYPOINT = REPO / "docker" / "entrypoints" / "migrate.sh"
NGINX_TEMPLATE = REPO / "nginx" / "reelforge.conf.template"
NGINX_DEFAULTS = REPO / "nginx" / "defaults.env"


def nginx_values(overrides: dict[str, str]) -> dict[str, str]:
    values = {}
    for line in NGINX_DEFAULTS.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            key, value = line.split("=", 1)
            values[key] = os.environ.get(key, value)
    values.update(overrides)
    return values


def render_nginx(values: dict[str, str]) -> str:
    """envsubst semantics, like the nginx image: only the known ${NAME}s are replaced."""
    text = NGINX_TEMPLATE.read_text()
    text = re.sub(r"\$\{(RF_[A-Z_]+)\}", lambda m: values.get(m.group(1), m.group(0)), text)
    if missing := re.findall(r"\$\{RF_[A-Z_]+\}", text):
        raise HarnessError(f"nginx template values missing: {sorted(set(missing))}")
    return text


def _nginx_main_conf(root: Path) -> str:
    user = "user root root;\n" if os.geteuid() == 0 else ""
    temp = "\n".join(
        f"    {kind}_temp_path {root}/{kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return f"""{user}worker_processes 2;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
{temp}
    include {root}/reelforge.conf;
}}
"""


@dataclass
class NativeStack:
    root: Path
    port: int = 8080
    api_port: int = field(default_factory=free_port)
    worker_metrics_port: int = field(default_factory=free_port)
    app_env: dict[str, str] = field(default_factory=dict)  # extra settings for API and worker
    nginx_env: dict[str, str] = field(default_factory=dict)  # RF_* overrides
    gunicorn_workers: int = 2
    api_command: list[str] = field(default_factory=lambda: [str(API_ENTRYPOINT)])
    with_worker: bool = True
    postgres: Postgres | None = None
    redis: Redis | None = None
    s3: S3Server | None = None
    processes: dict[str, Process] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def _shared_env(self) -> dict[str, str]:
        assert self.postgres and self.redis and self.s3
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "CELERY_"))}
        env["PATH"] = f"{VENV_BIN}:{env.get('PATH', '')}"
        env.update(
            ENVIRONMENT="test",
            DATABASE_URL=self.database_url,
            CELERY_BROKER_URL=self.redis.url,
            STORAGE_BACKEND="s3",
            S3_ENDPOINT_URL=self.s3.url,
            S3_BUCKET="reelforge",
            S3_ACCESS_KEY_ID="reelforge",
            S3_SECRET_ACCESS_KEY="reelforge-secret",
            JWT_SECRET=os.environ.get("JWT_SECRET", "native-stack-secret"),
            LOG_FORMAT="json",
            PYTHONUNBUFFERED="1",
        )
        env.update(self.app_env)
        return env

    def _tier_env(self, tier: str, **extra: str) -> dict[str, str]:
        """Each tier gets its own local folders: nothing on disk is shared between them."""
        env = self._shared_env()
        base = self.root / tier
        for sub in ("var", "tmp", "metrics"):
            (base / sub).mkdir(parents=True, exist_ok=True)
        env.update(VAR_DIR=str(base / "var"), TEMP_DIR=str(base / "tmp"),
                   PROMETHEUS_MULTIPROC_DIR=str(base / "metrics"), **extra)  # fmt: skip
        return env

    def start(self) -> NativeStack:
        require_binary("nginx", "/usr/sbin/nginx")
        self.root.mkdir(parents=True, exist_ok=True)
        self.postgres = Postgres().start()
        self.database_url = create_database(self.postgres.url())
        self.redis = Redis().start()
        self.s3 = S3Server(self.root).start(bucket="reelforge")
        self._run_once("migrate", [str(MIGRATE_ENTRYPOINT)], self._tier_env("api"))
        api_env = self._tier_env("api", GUNICORN_BIND=f"127.0.0.1:{self.api_port}",
                                 GUNICORN_WORKERS=str(self.gunicorn_workers),
                                 FORWARDED_ALLOW_IPS="127.0.0.1")  # fmt: skip
        self._start("api", self.api_command, api_env)
        wait_until(lambda: self._ok(self.api_url + "/health", "api"), 60, "gunicorn")
        if self.with_worker:
            self.start_worker()
        self._start_nginx()
        return self

    def start_worker(self) -> None:
        worker_env = self._tier_env("worker", WORKER_METRICS_PORT=str(self.worker_metrics_port),
                                    WORKER_CONCURRENCY=self.app_env.get("WORKER_CONCURRENCY", "1"))  # fmt: skip
        log = self.root / "logs" / "worker.log"
        offset = len(log.read_text(errors="replace")) if log.exists() else 0
        self._start("worker", [str(WORKER_ENTRYPOINT)], worker_env)
        wait_until(lambda: " ready." in self.processes["worker"].log_text()[offset:]
                   or self._dead("worker"), 60, "the Celery worker")  # fmt: skip

    def _start_nginx(self) -> None:
        conf_dir = self.root / "nginx"
        conf_dir.mkdir(parents=True, exist_ok=True)
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (conf_dir / kind).mkdir(exist_ok=True)
        values = nginx_values({"RF_LISTEN": f"127.0.0.1:{self.port}",
                               "RF_UPSTREAM": f"127.0.0.1:{self.api_port}",
                               "RF_ACCESS_LOG": str(conf_dir / "access.log"), **self.nginx_env})  # fmt: skip
        (conf_dir / "reelforge.conf").write_text(render_nginx(values))
        (conf_dir / "nginx.conf").write_text(_nginx_main_conf(conf_dir))
        nginx = require_binary("nginx", "/usr/sbin/nginx")
        cmd = [nginx, "-p", str(conf_dir), "-c", str(conf_dir / "nginx.conf"), "-g", "daemon off;"]
        self._start("nginx", cmd, dict(os.environ))
        wait_until(lambda: self._ok(self.url + "/health", "nginx"), 30, f"nginx on {self.url}")

    def _run_once(self, name: str, cmd: list[str], env: dict[str, str]) -> None:
        import subprocess

        result = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            raise HarnessError(f"{name} failed:\n{result.stderr[-3000:]}")

    def _start(self, name: str, cmd: list[str], env: dict[str, str]) -> None:
        self.processes[name] = Process(name, cmd, env, self.root / "logs" / f"{name}.log").start()

    def _dead(self, name: str) -> bool:
        if not self.processes[name].alive():
            raise HarnessError(f"{name} exited:\n{self.processes[name].log_text()[-3000:]}")
        return False

    def _ok(self, url: str, name: str) -> bool:
        self._dead(name)
        try:
            return httpx.get(url, timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def log(self, name: str) -> str:
        if name == "nginx-access":
            path = self.root / "nginx" / "access.log"
            return path.read_text() if path.exists() else ""
        return self.processes[name].log_text()

    def stop(self) -> None:
        for name in ("nginx", "worker", "api"):
            if name in self.processes:
                self.processes[name].stop()
        for server in (self.s3, self.redis, self.postgres):
            if server is not None:
                server.stop()

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
