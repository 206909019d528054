"""The API's pooled connections on a real Postgres: a connection the server has dropped (restart,
failover, idle reaper) is replaced at checkout, before a request uses it."""

from __future__ import annotations

import anyio
import pytest
from sqlalchemy import text

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
        await anyio.sleep(0.2)  # the server has closed it; the pool does not know yet

        second_pid = await _backend_pid(database)  # no error reaches the caller

        assert second_pid != first_pid
    finally:
        await database.dispose()
