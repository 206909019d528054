"""The in-process tier: the real app through httpx.ASGITransport with its collaborators put
where the lifespan would put them (each test has its own SQLite file, storage and broker
folder), services on a
database session that is rolled back after each test, and the pipeline with a fake job store.
No server process starts here (`make test-fast`)."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import create_engine, event
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from app.collaborators import Collaborators
from app.main import create_app
from app.videos.admission import Admission
from core.db import Database
from core.jobs.dispatch import JobPublisher
from core.models import Base
from core.settings import Settings
from core.storage.local import LocalStorage


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        environment="test",
        var_dir=tmp_path / "var",
        database_url=f"sqlite+aiosqlite:///{tmp_path}/fast.db",
        celery_broker_url="filesystem://",
        broker_dir=tmp_path / "broker",
        storage_dir=tmp_path / "storage",
        jwt_secret=secrets.token_urlsafe(32),
        bcrypt_rounds=4,
        rate_limit_storage_uri="memory://",
        max_upload_bytes=1024 * 1024,
        min_free_disk_bytes=0,
    )


def _savepoints_on_sqlite(engine: AsyncEngine) -> None:
    """pysqlite's own transaction handling breaks SAVEPOINT; let SQLAlchemy emit BEGIN itself
    (the documented recipe), so a test's outer transaction can hold the service's savepoints."""

    @event.listens_for(engine.sync_engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        dbapi_connection.execute("PRAGMA foreign_keys=ON")

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN")


@pytest.fixture
async def engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    sync = create_engine(settings.database_url.replace("+aiosqlite", ""))
    Base.metadata.create_all(sync)
    sync.dispose()
    engine = create_async_engine(settings.database_url)
    _savepoints_on_sqlite(engine)
    yield engine
    await engine.dispose()


@pytest.fixture
async def connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """One outer transaction per test, rolled back at the end: nothing a test writes survives."""
    async with engine.connect() as conn:
        outer = await conn.begin()
        yield conn
        await outer.rollback()


@pytest.fixture
def database(engine: AsyncEngine, connection: AsyncConnection) -> Database:
    """The app's Database, but every session joins the test's transaction: a service's commit
    releases a savepoint, and the after-commit hooks run as in production."""
    sessions = async_sessionmaker(
        bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
    )
    return Database(engine, sessions)


@pytest.fixture
async def session(database: Database) -> AsyncIterator[AsyncSession]:
    async with database.sessions() as session:
        yield session


@pytest.fixture
def storage(settings: Settings) -> LocalStorage:
    return LocalStorage(settings.resolved_storage_dir)


@pytest.fixture
def publisher(settings: Settings) -> JobPublisher:
    """The real publisher on Celery's filesystem broker: a sent job is a file in the queue."""
    return JobPublisher(settings, name="reelforge-fast-tests")


def queued_messages(settings: Settings) -> list[str]:
    folder = settings.resolved_broker_dir / "queue"
    return [p.read_text() for p in folder.glob("*")] if folder.exists() else []


@pytest.fixture
async def app_database(engine: AsyncEngine, settings: Settings) -> AsyncIterator[Database]:
    """For the app: the production Database (its engine, its commits) on this test's own
    SQLite file, so routes run exactly the request scope they run in production."""
    database = Database.from_settings(settings)
    yield database
    await database.dispose()


@pytest.fixture
def collaborators(
    settings: Settings, app_database: Database, storage: LocalStorage, publisher: JobPublisher
) -> Collaborators:
    """What the lifespan would build (it does not run under ASGITransport), on this test's
    database, storage and broker folder; admission without a disk to watch."""
    built = Collaborators.build(settings, app_database, storage, publisher)
    return replace(built, admission=Admission(settings, app_database.engine, None))


@pytest.fixture
def app(settings: Settings, collaborators: Collaborators) -> FastAPI:
    app = create_app(settings)
    app.state.collaborators = collaborators  # a test swaps one with dataclasses.replace
    return app


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client
