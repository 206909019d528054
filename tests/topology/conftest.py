"""Two production-shaped stacks (nginx → gunicorn ×2 → Postgres, Redis, S3; a worker): one with
the shipped limits relaxed for functional checks, one with strict limits for the edge tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack.services import Services
from devstack.stack import Stack
from tests.api_client import Api
from tests.conftest import TEST_SETTINGS, run_stack

RELAXED = {**TEST_SETTINGS, "S3_PART_BYTES": str(5 * 1024 * 1024),
           "MAX_UPLOAD_BYTES": str(12 * 1024 * 1024)}  # fmt: skip
OPEN_EDGE = {"RF_RATE_API": "1000r/s", "RF_BURST_API": "1000", "RF_RATE_AUTH": "1000r/s",
             "RF_BURST_AUTH": "1000", "RF_RATE_UPLOAD": "1000r/s", "RF_BURST_UPLOAD": "1000",
             "RF_RATE_TUS": "1000r/s", "RF_BURST_TUS": "1000"}  # fmt: skip


def _stack(workdir: Path, name: str, settings: dict[str, str], nginx: dict[str, str]) -> Stack:
    root = workdir / name
    return Stack(root, Services.start(root, s3=True), api_server="gunicorn", edge=True,
                 settings=settings, nginx_settings=nginx)  # fmt: skip


@pytest.fixture(scope="session")
def native(workdir: Path) -> Iterator[Stack]:
    yield from run_stack(_stack(workdir, "native", RELAXED, OPEN_EDGE))


@pytest.fixture(scope="session")
def strict(workdir: Path) -> Iterator[Stack]:
    settings = {**RELAXED, "RATE_LIMIT_DEFAULT": "10/minute"}
    nginx = {**OPEN_EDGE, "RF_RATE_UPLOAD": "1r/s", "RF_BURST_UPLOAD": "3",
             "RF_UPLOAD_MAX_BODY": "2m", "RF_UPLOAD_BODY_TIMEOUT": "2s",
             "RF_RATE_TUS": "5r/s", "RF_BURST_TUS": "10",
             "RF_RATE_AUTH": "20r/m", "RF_BURST_AUTH": "2"}  # fmt: skip
    yield from run_stack(_stack(workdir, "strict", settings, nginx))


@pytest.fixture(scope="session")
def edge(native: Stack) -> Api:
    """A client that only talks to nginx, as a user on the internet would."""
    return Api(native.url)
