"""The Docker tier: a real engine (started here when none runs, stopped again after), the upstream
images or their stand-ins, the project's images from its real Dockerfiles. It never skips: without
an engine that can be started, the tier fails with the reason."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.docker import engine as docker

REPORT: list[str] = []


@pytest.fixture(scope="session")
def docker_engine() -> Iterator[docker.Engine]:
    eng = docker.Engine.ensure()
    REPORT.append("Docker engine: " + ("started by the tests (stopped at the end)" if eng.started
                                       else "already running"))  # fmt: skip
    yield eng
    eng.stop()


@pytest.fixture(scope="session")
def compose(docker_engine: docker.Engine) -> list[str]:
    cmd = docker.compose_command()
    REPORT.append(f"compose: {' '.join(cmd)}")
    return cmd


@pytest.fixture(scope="session")
def images(compose: list[str]) -> dict[str, str]:
    """Upstream images (pulled or stand-ins), then reelforge-api and reelforge-worker."""
    used = docker.ensure_upstream_images(REPORT)
    docker.build_project_images(compose, REPORT)
    for name in ("reelforge-api", "reelforge-worker"):
        REPORT.append(f"image {name}: {docker.image_size_mb(name):.0f} MB")
    return used


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if REPORT:
        terminalreporter.section("Docker tier")
        for line in REPORT:
            terminalreporter.write_line(line)
