"""A token's user is read from the database once per AUTH_USER_CACHE_SECONDS per process, not on
every request (each read is a pooled-connection checkout; at 300 uploading users those checkouts
exhausted the pool); with 0 every request reads it, so a removed account is refused at once."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import delete, event
from sqlalchemy.ext.asyncio import AsyncEngine

from app.auth.known_users import KnownUsers
from app.collaborators import Collaborators
from core.db import Database
from core.models import User
from core.settings import Settings
from tests.factories import signed_up

pytestmark = pytest.mark.anyio
BY_ID = re.compile(r'FROM "?user"?\s+WHERE "?user"?\.id\s*=')


@pytest.fixture
def user_reads(app_database: Database) -> Iterator[list[str]]:
    """Every read of one user row by id (the token's user) that the app's engine runs."""
    reads: list[str] = []

    def seen(_conn, _cursor, statement: str, *_args: object) -> None:  # type: ignore[no-untyped-def]
        if BY_ID.search(statement):
            reads.append(statement)

    engine: AsyncEngine = app_database.engine
    event.listen(engine.sync_engine, "before_cursor_execute", seen)
    yield reads
    event.remove(engine.sync_engine, "before_cursor_execute", seen)


async def test_one_user_read_serves_a_burst_of_requests(
    client: httpx.AsyncClient, user_reads: list[str]
) -> None:
    auth = await signed_up(client)
    user_reads.clear()
    for _ in range(5):
        assert (await client.get("/api/videos", headers=auth)).status_code == 200
    assert len(user_reads) == 1


async def test_without_the_cache_a_removed_account_is_refused_at_once(
    app: FastAPI,
    client: httpx.AsyncClient,
    app_database: Database,
    settings: Settings,
    collaborators: Collaborators,
    user_reads: list[str],
) -> None:
    uncached = KnownUsers(settings.model_copy(update={"auth_user_cache_seconds": 0}))
    forgetful = replace(collaborators, known_users=uncached)
    app.state.collaborators = forgetful
    auth = await signed_up(client)
    assert (await client.get("/api/videos", headers=auth)).status_code == 200
    async with app_database.session_scope() as session:
        await session.execute(delete(User))
    refused = await client.get("/api/videos", headers=auth)
    assert refused.status_code == 401
    assert len(user_reads) >= 2
