"""Two native production-shaped stacks: one with the shipped limits relaxed for functional
checks, one with strict limits for the rate-limit and edge tests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api_client import Api
from tests.harness import free_port
from tests.native_stack import NativeStack


def _stack(
    workdir: Path, name: str, app_env: dict[str, str], nginx_env: dict[str, str]
) -> Iterator[NativeStack]:
    stack = NativeStack(workdir / name, port=free_port(), app_env=app_env, nginx_env=nginx_env)
    try:
        yield stack.start()
    finally:
        stack.stop()
        if os.environ.get("REELFORGE_TEST_LOGS"):
            for proc in stack.processes.values():
                print(f"---- {name} {proc.name} ----\n{proc.log_text()[-4000:]}")


RELAXED = {"RATE_LIMIT_DEFAULT": "100000/minute", "RATE_LIMIT_UPLOAD": "100000/minute",
           "RATE_LIMIT_AUTH": "100000/minute", "BCRYPT_ROUNDS": "4",
           "S3_PART_BYTES": str(5 * 1024 * 1024), "PROGRESS_INTERVAL_SECONDS": "0.5",
           "MAX_UPLOAD_BYTES": str(12 * 1024 * 1024)}  # fmt: skip


@pytest.fixture(scope="session")
def native(workdir: Path) -> Iterator[NativeStack]:
    nginx = {"RF_RATE_API": "1000r/s", "RF_BURST_API": "1000", "RF_RATE_AUTH": "1000r/s",
             "RF_BURST_AUTH": "1000", "RF_RATE_UPLOAD": "1000r/s", "RF_BURST_UPLOAD": "1000"}  # fmt: skip
    yield from _stack(workdir, "native", RELAXED, nginx)


@pytest.fixture(scope="session")
def strict(workdir: Path) -> Iterator[NativeStack]:
    app = {**RELAXED, "RATE_LIMIT_DEFAULT": "10/minute"}
    nginx = {"RF_RATE_API": "1000r/s", "RF_BURST_API": "1000", "RF_RATE_AUTH": "1000r/s",
             "RF_BURST_AUTH": "1000", "RF_RATE_UPLOAD": "1r/s", "RF_BURST_UPLOAD": "3",
             "RF_UPLOAD_MAX_BODY": "2m", "RF_UPLOAD_BODY_TIMEOUT": "2s"}  # fmt: skip
    yield from _stack(workdir, "strict", app, nginx)


@pytest.fixture(scope="session")
def edge(native: NativeStack) -> Api:
    """A client that only talks to nginx, as a user on the internet would."""
    return Api(native.url)
