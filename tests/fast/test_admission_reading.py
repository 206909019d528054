"""Admission control reads the backlog once per ADMISSION_CACHE_SECONDS per process, however
many uploads arrive while it reads (a stampede of backlog queries, one per concurrent upload, was
~7 % of the API's CPU at 100 uploading users); and not at all when no limit is configured."""

from __future__ import annotations

import re
from collections.abc import Iterator

import anyio
import pytest
from sqlalchemy import event

from app.errors import ServiceUnavailable
from app.videos.admission import Admission
from core.db import Database
from core.settings import Settings

pytestmark = pytest.mark.anyio


@pytest.fixture
def backlog_reads(app_database: Database) -> Iterator[list[str]]:
    """Every statement the admission reading runs on the app's engine."""
    reads: list[str] = []

    def seen(_conn, _cursor, statement: str, *_args: object) -> None:  # type: ignore[no-untyped-def]
        if re.search(r"\bfrom (tally|video)\b", statement.lower()):
            reads.append(statement)

    engine = app_database.engine.sync_engine
    event.listen(engine, "before_cursor_execute", seen)
    yield reads
    event.remove(engine, "before_cursor_execute", seen)


def _admission(settings: Settings, database: Database, **update: object) -> Admission:
    return Admission(settings.model_copy(update=update), database.engine, None)


async def _check_concurrently(admission: Admission, count: int) -> list[Exception]:
    refused: list[Exception] = []

    async def one() -> None:
        try:
            await admission.check()
        except ServiceUnavailable as exc:
            refused.append(exc)

    async with anyio.create_task_group() as tg:
        for _ in range(count):
            tg.start_soon(one)
    return refused


async def test_concurrent_uploads_share_one_backlog_reading(
    settings: Settings, app_database: Database, backlog_reads: list[str]
) -> None:
    admission = _admission(
        settings, app_database, backlog_max_queued=1000, admission_cache_seconds=60
    )
    assert await _check_concurrently(admission, 50) == []
    first = len(backlog_reads)
    assert first == 2  # the tallies and the oldest queued job: one reading, two queries
    assert await _check_concurrently(admission, 50) == []
    assert len(backlog_reads) == first  # still fresh: no query at all


async def test_an_expired_reading_is_refreshed_by_one_request_while_others_use_the_last(
    settings: Settings, app_database: Database, backlog_reads: list[str]
) -> None:
    admission = _admission(settings, app_database, backlog_max_queued=1, admission_cache_seconds=0)
    await admission.check()  # the first reading
    backlog_reads.clear()
    assert await _check_concurrently(admission, 30) == []  # nothing is queued: all admitted
    assert len(backlog_reads) == 2  # one refresh (its two queries), not one per request


async def test_no_limit_configured_reads_nothing(
    settings: Settings, app_database: Database, backlog_reads: list[str]
) -> None:
    admission = _admission(
        settings,
        app_database,
        backlog_max_queued=0,
        backlog_max_oldest_seconds=0,
        min_free_disk_bytes=0,
    )
    assert await _check_concurrently(admission, 10) == []
    assert backlog_reads == []
