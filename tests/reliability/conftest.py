"""Stacks built per test, each with its own database and Redis, so faults stay contained."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from devstack.servers import Postgres
from devstack.services import Services
from devstack.stack import Stack
from tests.conftest import TEST_SETTINGS

FAST_RECOVERY = {
    "LEASE_SECONDS": "6",
    "RESEND_AFTER_SECONDS": "3",
    "RECONCILE_INTERVAL_SECONDS": "1",
    "RETRY_SCHEDULE_SECONDS": "0.5,1,2",
    "PROGRESS_INTERVAL_SECONDS": "0.5",
    "MAX_ATTEMPTS": "3",
}
MakeStack = Callable[..., Stack]


@pytest.fixture
def make_stack(
    workdir: Path, postgres_url: str, request: pytest.FixtureRequest
) -> Iterator[MakeStack]:
    """make_stack(worker=True, api_env={...}, postgres=<server>, **settings) → a started Stack
    with its own Redis and database; `api_env` reaches the API process alone."""
    stacks: list[Stack] = []

    def make(
        *,
        worker: bool = True,
        api_env: dict[str, str] | None = None,
        postgres: Postgres | None = None,
        **settings: str,
    ) -> Stack:
        root = workdir / f"{request.node.name}-{len(stacks)}"
        services = Services.start(root, postgres=postgres or postgres_url)
        stack = Stack(root, services, settings={**TEST_SETTINGS, **FAST_RECOVERY, **settings},
                      api_settings=api_env or {})  # fmt: skip
        stacks.append(stack)
        return stack.start(worker=worker)

    yield make
    for stack in stacks:
        stack.stop()
        if os.environ.get("REELFORGE_TEST_LOGS"):
            for proc in stack.processes.values():
                print(f"---- {proc.name} ----\n{proc.log_text()[-4000:]}")


@pytest.fixture(scope="session")
def clip_20s(media: Path) -> Path:
    from tests.media import make_clip

    return make_clip(media / "clip-20s-720p.mp4", seconds=20, width=1280, height=720, audio=False)
