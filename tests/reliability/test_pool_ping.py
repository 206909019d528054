"""The API's pooled connections on a real Postgres: a connection the server has dropped (restart,
failover, idle reaper) is replaced at checkout, before a request uses it — unless it was checked
in within core.db.PING_BYPASS_SECONDS, when it fails that one use and is then replaced."""

from __future__ import annotations

import anyio
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

import core.db
from core.db import Database
from core.settings import Settings
from devstack.servers import create_database

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _database(postgres_url: str) -> Database:
    return Database.from_settings(Settings(database_url=create_database(postgres_url)))


async def _backend_pid(database: Database) -> int:
    async with database.sessions() as session:
        return int((await session.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def test_a_dropped_pooled_connection_is_replaced_before_use(postgres_url: str) -> None:
    database = _database(postgres_url)
    try:
        first_pid = await _backend_pid(database)  # the pool now holds this connection
        admin = _database(postgres_url)
        async with admin.sessions() as session:
            await session.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first_pid})
        await admin.dispose()
        # The server has closed it; the pool does not know yet, and the bypass window is over.
        await anyio.sleep(core.db.PING_BYPASS_SECONDS + 0.2)

        second_pid = await _backend_pid(database)  # no error reaches the caller

        assert second_pid != first_pid
    finally:
        await database.dispose()


async def test_inside_the_bypass_window_a_dropped_connection_fails_once_then_is_replaced(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(core.db, "PING_BYPASS_SECONDS", 60.0)  # no timing race in the test
    database, admin = _database(postgres_url), _database(postgres_url)
    try:
        first_pid = await _backend_pid(database)  # checked in just now: no ping at checkout
        async with admin.sessions() as session:
            await session.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first_pid})
        await anyio.sleep(0.2)

        with pytest.raises(DBAPIError):  # the one request the window costs
            await _backend_pid(database)
        second_pid = await _backend_pid(database)  # the pool replaced the connection

        assert second_pid != first_pid
    finally:
        await admin.dispose()
        await database.dispose()
