"""The compose files are valid and run exactly the commands the native stack runs."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import yaml

from devstack.servers import REPO, require_binary
from devstack.stack import ENTRYPOINTS

API_ENTRYPOINT = ENTRYPOINTS / "api.sh"
WORKER_ENTRYPOINT = ENTRYPOINTS / "worker.sh"
MIGRATE_ENTRYPOINT = ENTRYPOINTS / "migrate.sh"

MONITORING = REPO / "docker" / "compose.monitoring.yml"
COMPOSE_FILES = [REPO / "docker-compose.yml", REPO / "docker" / "compose.api.yml",
                 REPO / "docker" / "compose.worker.yml", MONITORING]  # fmt: skip


def _f(path: Path) -> list[str]:
    """The -f arguments for one file (the monitoring file layers on the one-machine stack)."""
    files = [REPO / "docker-compose.yml", path] if path == MONITORING else [path]
    return [arg for f in files for arg in ("-f", str(f))]


REQUIRED_ENV = {
    "JWT_SECRET": "x" * 32,
    "POSTGRES_PASSWORD": "pg-secret",
    "MINIO_ROOT_USER": "root",
    "MINIO_ROOT_PASSWORD": "root-secret",
    "S3_ACCESS_KEY_ID": "app",
    "S3_SECRET_ACCESS_KEY": "app-secret",
    "GRAFANA_ADMIN_PASSWORD": "g-secret",
    "FLOWER_BASIC_AUTH": "ops:f-secret",
    "DATABASE_URL": "postgresql+asyncpg://u:p@db:5432/reelforge",
    "CELERY_BROKER_URL": "redis://redis:6379/0",
    "S3_BUCKET": "reelforge",
}


@pytest.mark.parametrize("path", COMPOSE_FILES, ids=lambda p: p.name)
def test_compose_file_is_valid(path: Path) -> None:
    binary = require_binary("docker-compose")
    env = {**os.environ, **REQUIRED_ENV}
    for profile in ("", "migrate"):
        env["COMPOSE_PROFILES"] = profile
        result = subprocess.run([binary, *_f(path), "config", "-q"], env=env,
                                capture_output=True, text=True, timeout=60)  # fmt: skip
        assert result.returncode == 0, result.stderr


def _entry(path: Path) -> str:
    return str(path.relative_to(REPO))


def test_compose_runs_the_native_stack_commands() -> None:
    expected = {"api": _entry(API_ENTRYPOINT), "worker": _entry(WORKER_ENTRYPOINT),
                "migrate": _entry(MIGRATE_ENTRYPOINT)}  # fmt: skip
    seen = set()
    for path in COMPOSE_FILES:
        services = yaml.safe_load(path.read_text())["services"]
        for name, command in expected.items():
            if name in services:
                assert services[name]["command"] == [command], (path.name, name)
                seen.add(name)
    assert seen == set(expected)
    for dockerfile, entry in (
        ("api.Dockerfile", API_ENTRYPOINT),
        ("worker.Dockerfile", WORKER_ENTRYPOINT),
    ):
        text = (REPO / "docker" / dockerfile).read_text()
        assert f'CMD ["{_entry(entry)}"]' in text


def test_worker_image_installs_ffmpeg_and_both_images_run_as_non_root() -> None:
    for dockerfile in ("api.Dockerfile", "worker.Dockerfile"):
        text = (REPO / "docker" / dockerfile).read_text()
        assert "USER reelforge" in text and "HEALTHCHECK" in text and "-slim" in text
    assert "ffmpeg" in (REPO / "docker" / "worker.Dockerfile").read_text()


def test_redis_is_durable_and_never_evicts_jobs() -> None:
    redis = yaml.safe_load((REPO / "docker-compose.yml").read_text())["services"]["redis"]
    command = " ".join(redis["command"])
    assert "--appendonly yes" in command and "--maxmemory-policy noeviction" in command


SECRETS = ("JWT_SECRET", "POSTGRES_PASSWORD", "MINIO_ROOT_USER", "MINIO_ROOT_PASSWORD",
           "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY", "GRAFANA_ADMIN_PASSWORD", "FLOWER_BASIC_AUTH")  # fmt: skip


@pytest.mark.parametrize("path", COMPOSE_FILES, ids=lambda p: p.name)
def test_no_secret_has_a_default_and_each_is_required(path: Path) -> None:
    import re

    text = path.read_text()
    for name in SECRETS:
        assert not re.search(rf"\$\{{{name}:-[^}}]", text), f"{name} has a default in {path.name}"
    binary = require_binary("docker-compose")
    env = {k: v for k, v in {**os.environ, **REQUIRED_ENV}.items() if k not in SECRETS}
    result = subprocess.run([binary, *_f(path), "config", "-q"], env=env,
                            capture_output=True, text=True, timeout=60)  # fmt: skip
    uses = [name for name in SECRETS if "${" + name in text]
    if any(f"${{{name}:?" in text for name in uses):
        assert result.returncode != 0, f"{path.name} started without its secrets"


def _published(path: Path) -> dict[str, list[str]]:
    """service -> its published ports as compose renders them (defaults applied)."""
    binary = require_binary("docker-compose")
    env = {**os.environ, **REQUIRED_ENV, "COMPOSE_PROFILES": "migrate"}
    rendered = subprocess.run([binary, *_f(path), "config"], env=env, capture_output=True,
                              text=True, timeout=60, check=True).stdout  # fmt: skip
    services = yaml.safe_load(rendered)["services"]
    out: dict[str, list[str]] = {}
    for name, service in services.items():
        for port in service.get("ports", []):
            host_ip = port.get("host_ip", "") if isinstance(port, dict) else str(port)
            out.setdefault(name, []).append(host_ip)
    return out


@pytest.mark.parametrize("path", COMPOSE_FILES, ids=lambda p: p.name)
def test_only_nginx_listens_on_all_interfaces(path: Path) -> None:
    for service, host_ips in _published(path).items():
        if service == "nginx":
            continue
        for host_ip in host_ips:
            assert host_ip.startswith("127.0.0.1"), (path.name, service, host_ip)


def test_the_stack_starts_without_monitoring_credentials() -> None:
    """A new user's `docker compose up` asks only for the stack's own secrets."""
    binary = require_binary("docker-compose")
    env = {k: v for k, v in {**os.environ, **REQUIRED_ENV}.items()
           if k not in ("GRAFANA_ADMIN_PASSWORD", "FLOWER_BASIC_AUTH")}  # fmt: skip
    result = subprocess.run([binary, "-f", str(REPO / "docker-compose.yml"), "config", "-q"],
                            env=env, capture_output=True, text=True, timeout=60)  # fmt: skip
    assert result.returncode == 0, result.stderr


def test_monitoring_tools_need_credentials() -> None:
    services = yaml.safe_load(MONITORING.read_text())["services"]
    grafana = services["grafana"]["environment"]
    assert grafana["GF_AUTH_ANONYMOUS_ENABLED"] == "false"
    assert "GRAFANA_ADMIN_PASSWORD:?" in grafana["GF_SECURITY_ADMIN_PASSWORD"]
    assert any(
        "--basic-auth=${FLOWER_BASIC_AUTH:?" in part for part in services["flower"]["command"]
    )
    app_env = yaml.safe_load((REPO / "docker-compose.yml").read_text())["services"]["api"][
        "environment"
    ]
    assert "MINIO_ROOT" not in str(app_env), "the app must use the bucket-scoped key, not root"
