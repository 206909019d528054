"""The counters the database keeps (core/counters.py) on Postgres: equal to a recount after a
mixed workload, exact under concurrent votes (one vote per user and video still enforced), and
backfilled by the migration from a live database's existing rows."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from app.errors import BadRequest
from app.public import service
from bench.scale_seed import LEVELS, seed
from core.models import User, utcnow
from devstack.servers import create_database
from tests import workload
from tests.counting import recount, stored

REPO = Path(__file__).resolve().parents[2]


def test_counters_equal_a_recount_after_a_mixed_workload(postgres_url: str) -> None:
    engine = workload.postgres_engine(postgres_url)
    workload.run(engine)
    with engine.connect() as conn:
        truth, kept = recount(conn), stored(conn)
    assert truth["tally"]["queued"] > 0 and truth["tally"]["published"] > 0
    assert kept == truth
    engine.dispose()


def test_fifty_concurrent_votes_by_one_user_count_once_and_fifty_users_count_fifty(
    postgres_url: str,
) -> None:
    engine = workload.postgres_engine(postgres_url)
    owner, *voters = workload.users(engine, 51)
    (video,) = workload.upload(engine, owner, 1)
    with engine.begin() as conn:
        conn.execute(text("UPDATE video SET status = 'processed', published = true, "
                          "published_at = :now WHERE id = :id"), {"now": utcnow(), "id": video})  # fmt: skip
    async_url = str(engine.url.render_as_string(hide_password=False)).replace(
        "+psycopg", "+asyncpg"
    )

    async def votes(user_ids: list[int]) -> list[str]:
        db = create_async_engine(async_url, pool_size=50)

        async def one(user_id: int) -> str:
            async with AsyncSession(db) as session:
                user = await session.get(User, user_id)
                assert user is not None
                try:
                    await service.vote(session, user, video)
                    await session.commit()
                    return "ok"
                except BadRequest as exc:
                    await session.rollback()
                    return str(exc.detail)

        try:
            return list(await asyncio.gather(*(one(u) for u in user_ids)))
        finally:
            await db.dispose()

    same = asyncio.run(votes([voters[0]] * 50))
    assert same.count("ok") == 1
    assert set(same) == {"ok", "You have already voted for this video"}
    assert asyncio.run(votes(voters[1:])) == ["ok"] * 49
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT votes FROM video WHERE id = :id"), {"id": video}) == 50
        assert conn.scalar(text('SELECT votes_received FROM "user" WHERE id = :id'),
                           {"id": owner}) == 50  # fmt: skip
        assert stored(conn) == recount(conn)
    engine.dispose()


def test_the_migration_backfills_the_counters_of_a_live_database(postgres_url: str) -> None:
    url = create_database(postgres_url)
    env = dict(os.environ, DATABASE_URL=url, ENVIRONMENT="dev")

    def upgrade(revision: str) -> None:
        subprocess.run([sys.executable, "-m", "alembic", "upgrade", revision], cwd=REPO, env=env,
                       check=True, capture_output=True, timeout=300)  # fmt: skip

    upgrade("0007")
    from sqlalchemy import create_engine

    engine = create_engine(url.replace("+asyncpg", "+psycopg"))
    with engine.begin() as conn:  # the scale benchmark's smallest size, on the old schema
        seed(conn, LEVELS["L1"], promote_seconds=300)
    upgrade("head")
    with engine.connect() as conn:
        truth, kept = recount(conn), stored(conn)
    assert truth["tally"]["queued"] == LEVELS["L1"].queued
    assert kept == truth
    engine.dispose()


def test_the_migrations_build_exactly_the_models_schema(postgres_url: str) -> None:
    """Every index, column and table of core/models.py comes from a migration (alembic's own
    comparison finds nothing to add; the SQLite-only twin of the pick index aside)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import create_engine

    from core.models import Base

    url = create_database(postgres_url)
    env = dict(os.environ, DATABASE_URL=url, ENVIRONMENT="dev")
    subprocess.run([sys.executable, "-m", "alembic", "upgrade", "head"], cwd=REPO, env=env,
                   check=True, capture_output=True, timeout=300)  # fmt: skip
    engine = create_engine(url.replace("+asyncpg", "+psycopg"))
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = compare_metadata(context, Base.metadata)
    engine.dispose()
    sqlite_only = [d for d in diffs if d[0] == "add_index" and d[1].name.endswith("_lite")]
    assert len(sqlite_only) == 1 and diffs == sqlite_only, diffs


def _churn(url: str, seconds: float, out: Any) -> None:
    """One worker slot: claim, then complete, fail or release what it claimed, for `seconds`."""
    import random
    import time
    import uuid
    from datetime import timedelta

    from sqlalchemy import create_engine
    from sqlalchemy.orm import sessionmaker

    from core.jobs.scheduling import SchedulingPolicy
    from core.jobs.store import Claim, JobStore
    from core.models import utcnow

    engine = create_engine(url, pool_size=1)
    store = JobStore(sessionmaker(engine, expire_on_commit=False), 600, SchedulingPolicy())
    errors, done, deadline = [], 0, time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            claim = store.claim(random.randint(1, 1000), uuid.uuid4().hex)
            if isinstance(claim, Claim):
                end = random.choice(("complete", "fail", "retry"))
                if end == "complete":
                    ok = store.complete(claim, "p", "t", 1.0)
                elif end == "fail":
                    ok = store.fail(claim, "why")
                else:  # due now or soon: woken by the claims of the other slots
                    at = utcnow() + timedelta(seconds=random.uniform(-1.0, 0.5))
                    ok = store.release_for_retry(claim, "why", at, random.random() < 0.5)
                done += int(bool(ok))
        except Exception as exc:  # noqa: BLE001 - what the test counts
            errors.append(repr(exc)[:300])
    out.put((done, errors))
    engine.dispose()


def test_concurrent_claims_completions_and_retries_never_deadlock(postgres_url: str) -> None:
    """Eight worker processes claim and finish jobs of the same 20 owners at once (the rows of
    round_count, tally and queue_histogram they touch overlap): no transaction is ever chosen
    as a deadlock victim (core/counter_triggers.py: one ordered statement per counter table),
    and the counters still equal a recount."""
    engine = workload.postgres_engine(postgres_url)
    for owner in workload.users(engine, 20):
        workload.upload(engine, owner, 40, lane=1)
    url = engine.url.render_as_string(hide_password=False)
    engine.dispose()
    results = workload.in_processes(_churn, (url, 6.0), 8, timeout=120)
    errors = [e for _, errs in results for e in errs]
    assert errors == [], errors[:3]
    assert sum(done for done, _ in results) > 100
    from sqlalchemy import create_engine

    engine = create_engine(url)
    with engine.connect() as conn:
        assert stored(conn) == recount(conn)
    engine.dispose()
