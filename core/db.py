"""Engines and sessions, and the one after-commit mechanism.

`Database.session_scope()` is the API's unit of work: the one place it commits, opened either
once per request (`SessionDep`) or as short units around a streamed upload body, so no pooled
connection is held while bytes arrive (docs/architecture.md, "Units of work"). Whatever must
happen only once a transaction is durable — sending a job to the broker, deleting stored files —
is registered with `after_commit(session, fn)`; what must be undone if it does not commit, with
`after_rollback`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import anyio
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.util import await_

from core.settings import Settings

_AFTER_COMMIT = "reelforge.after_commit"
_AFTER_ROLLBACK = "reelforge.after_rollback"


def after_commit(session: AsyncSession, fn: Callable[[], None]) -> None:
    """Run `fn` (blocking: it runs in a thread) once the transaction is durable, in the order
    registered. A failure is logged, never raised: the committed data is already consistent
    (a job whose message was not sent stays `queued` and is re-sent by the reconciler)."""
    session.info.setdefault(_AFTER_COMMIT, []).append(fn)


def after_rollback(session: AsyncSession, fn: Callable[[], None]) -> None:
    """Undo a side effect (e.g. a stored upload) when the transaction does not commit."""
    session.info.setdefault(_AFTER_ROLLBACK, []).append(fn)


async def release_connection(session: AsyncSession) -> None:
    """End a read-only transaction early, so slow CPU work that follows (password hashing) does
    not pin a pooled connection. Refuses if anything is pending: nothing written can be lost."""
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("release_connection() with pending writes")
    await session.rollback()


async def _run_hooks(session: AsyncSession, name: str) -> None:
    for fn in session.info.pop(name, []):
        try:
            await anyio.to_thread.run_sync(fn)
        except Exception:  # the data itself is already consistent; see after_commit()
            logging.getLogger(__name__).exception("post-transaction hook failed")


def _is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def sync_url(url: str) -> str:
    """The same database through a blocking driver (worker processes and migrations)."""
    return url.replace("+asyncpg", "+psycopg").replace("+aiosqlite", "")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _connect_args(settings: Settings, *, asyncpg: bool) -> dict[str, Any]:
    if _is_sqlite(settings.database_url):
        return {"timeout": settings.db_timeout_seconds}
    if asyncpg:
        return {"timeout": settings.db_timeout_seconds, "command_timeout": 30}
    return {"connect_timeout": max(1, int(settings.db_timeout_seconds))}


# A connection given back this recently is not pinged again (HikariCP's aliveBypassWindowMs):
# under load nearly every checkout follows a checkin by milliseconds, and the ping was one of
# an upload's four round trips. A database that dies inside the window fails that one request
# with a 503 (app/errors.py); the pool then replaces the connection.
PING_BYPASS_SECONDS = 0.5
_CHECKED_IN_AT = "reelforge.checked_in_at"


def _mark_checkin(_dbapi_connection: Any, record: Any) -> None:
    if record is not None:
        record.info[_CHECKED_IN_AT] = time.monotonic()


def _ping_on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    """Pessimistic disconnect handling in one round trip: a simple-protocol `SELECT 1` on
    checkout (unless the connection was checked in within PING_BYPASS_SECONDS); a dead
    connection (database restarted or failed over) is replaced before the request uses it, so
    the first upload after a failover does not fail once its body has arrived. SQLAlchemy's
    own pre-ping on asyncpg costs three round trips (BEGIN, a prepared `;`, ROLLBACK — the
    transaction is for pgbouncer's transaction mode, which a prepared statement would break; a
    simple-protocol query needs none). (asyncpg cannot run an empty query through `execute`:
    its status is None.) The record's info is cleared when the connection is replaced."""
    checked_in_at = record.info.get(_CHECKED_IN_AT)
    if checked_in_at is not None and time.monotonic() - checked_in_at < PING_BYPASS_SECONDS:
        return
    try:
        await_(dbapi_connection.driver_connection.execute("SELECT 1"))
    except Exception as exc:  # any failure: the pool discards it and checks out another
        raise DisconnectionError(f"pooled connection failed its ping: {exc}") from exc


def make_async_engine(settings: Settings) -> AsyncEngine:
    url = settings.database_url
    # hide_parameters: a logged error never carries the values (password hashes, emails).
    kwargs: dict[str, Any] = {
        "connect_args": _connect_args(settings, asyncpg=True),
        "hide_parameters": True,
    }
    if not _is_sqlite(url):
        kwargs.update(
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
            pool_timeout=settings.db_pool_timeout_seconds,
        )
    engine = create_async_engine(url, **kwargs)
    if _is_sqlite(url):
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    else:
        event.listen(engine.sync_engine, "checkout", _ping_on_checkout)
        event.listen(engine.sync_engine, "checkin", _mark_checkin)
    return engine


def make_sync_engine(settings: Settings) -> Engine:
    url = sync_url(settings.database_url)
    kwargs: dict[str, Any] = {
        "connect_args": _connect_args(settings, asyncpg=False),
        "hide_parameters": True,
    }
    if not _is_sqlite(url):
        kwargs.update(pool_size=2, max_overflow=2, pool_pre_ping=True)
    engine = create_engine(url, **kwargs)
    if _is_sqlite(url):
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


class Database:
    """One per API process, created in the lifespan (after gunicorn forks)."""

    def __init__(self, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.engine = engine
        self.sessions = sessions

    @classmethod
    def from_settings(cls, settings: Settings) -> Database:
        engine = make_async_engine(settings)
        return cls(engine, async_sessionmaker(engine, expire_on_commit=False))

    @asynccontextmanager
    async def session_scope(self) -> AsyncIterator[AsyncSession]:
        """`async with database.session_scope() as session:` — commit when the block succeeds,
        roll back when it raises, then run the hooks. (A context manager, not a generator to
        iterate: an exception must be thrown into it, or its clean-up waits for the GC.)

        The rollback and both hook lists are shielded from cancellation: a client that goes
        away (or a server closing the request task once the error response is out) must not
        leave a stored upload behind or a committed job unannounced."""
        async with self.sessions() as session:
            committed = False
            try:
                yield session
                await session.commit()
                committed = True
            finally:
                if not committed:  # the handler raised, or the commit failed
                    with anyio.CancelScope(shield=True):
                        await session.rollback()
                        await _run_hooks(session, _AFTER_ROLLBACK)
            session.info.pop(_AFTER_ROLLBACK, None)
            with anyio.CancelScope(shield=True):
                await _run_hooks(session, _AFTER_COMMIT)

    async def dispose(self) -> None:
        await self.engine.dispose()


def make_sync_sessions(settings: Settings) -> sessionmaker[Session]:
    return sessionmaker(make_sync_engine(settings), expire_on_commit=False)
