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

COMPOSE_FILES = [REPO / "docker-compose.yml", REPO / "docker" / "compose.api.yml",
                 REPO / "docker" / "compose.worker.yml"]  # fmt: skip
REQUIRED_ENV = {
    "JWT_SECRET": "x" * 32,
    "DATABASE_URL": "postgresql+asyncpg://u:p@db:5432/reelforge",
    "CELERY_BROKER_URL": "redis://redis:6379/0",
    "S3_BUCKET": "reelforge",
}


@pytest.mark.parametrize("path", COMPOSE_FILES, ids=lambda p: p.name)
def test_compose_file_is_valid(path: Path) -> None:
    binary = require_binary("docker-compose")
    env = {**os.environ, **REQUIRED_ENV}
    for profile in ("", "monitoring", "migrate"):
        env["COMPOSE_PROFILES"] = profile
        result = subprocess.run([binary, "-f", str(path), "config", "-q"], env=env,
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
