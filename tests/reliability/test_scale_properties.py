"""What the scale stage (bench/scale.py) asserts that does not depend on the machine, at 10k
queued jobs on Postgres: 32 concurrent claimers never claim a job twice and keep the owners
even (no owner gets a k+1-th running job while another owner with queued jobs has fewer than k
— tolerance 0: claims are serialised by the claim lock, and no pick went without it); queue
positions follow the order the claims really take (exactly up to POSITION_EXACT_MAX, within
the job's round beyond it); the counters equal a recount afterwards."""

from __future__ import annotations

import asyncio
import random
import statistics
import uuid
from collections import Counter
from typing import Any

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.orm import sessionmaker

from core.jobs.positions import POSITION_EXACT_MAX, estimate_positions, queue_positions
from core.jobs.scheduling import SchedulingPolicy
from core.jobs.store import Claim, JobStore
from core.models import utcnow
from tests import workload
from tests.counting import recount, stored

OWNERS = 100
POLICY = SchedulingPolicy(fair=True, lane_promote_seconds=3600)


def _queue(engine: Engine, per_owner: int, shuffled: bool) -> list[int]:
    """`per_owner` queued jobs for each of OWNERS owners, uploaded round-robin (or shuffled),
    in random lanes when shuffled."""
    owners = workload.users(engine, OWNERS)
    order = [(o, i) for i in range(per_owner) for o in owners]
    rng = random.Random(11)
    if shuffled:
        rng.shuffle(order)
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO video (owner_id, title, status, progress, task_id, attempts, "
            "original_key, original_content_type, original_bytes, priority, uploaded_at, "
            "enqueued_at, published, votes) VALUES (:o, 't', 'queued', 0, :t, 0, 'k', 'video/mp4', "
            "1, :lane, :at, :at, false, 0)"),
            [{"o": o, "t": uuid.uuid4().hex, "lane": rng.choice([0, 1, 1, 2]) if shuffled else 1,
              "at": "2026-01-01 00:00:00+00", "seq": n} for n, (o, _) in enumerate(order)])  # fmt: skip
        conn.execute(text(  # distinct upload times in the order above
            "UPDATE video SET uploaded_at = timestamptz '2026-01-01 00:00:00+00' "
            "+ id * interval '1 second'"))  # fmt: skip
        return [r for (r,) in conn.execute(text("SELECT id FROM video ORDER BY id"))]


def _claimer(url: str, count: int, out: Any) -> None:
    engine = create_engine(url, pool_size=1)
    store = JobStore(sessionmaker(engine, expire_on_commit=False), 600, POLICY)
    claimed = []
    for _ in range(count):
        result = store.claim(random.randint(1, 10_000), uuid.uuid4().hex)
        if isinstance(result, Claim):
            claimed.append(result.video_id)
    out.put((claimed, store.unfair_picks))
    engine.dispose()


def test_thirty_two_claimers_never_claim_twice_and_keep_the_owners_even(
    postgres_url: str,
) -> None:
    engine = workload.postgres_engine(postgres_url)
    ids = _queue(engine, 100, shuffled=True)
    assert len(ids) == 10_000
    url = engine.url.render_as_string(hide_password=False)
    engine.dispose()
    results = workload.in_processes(_claimer, (url, 60), 32, timeout=300)
    claimed = [v for ids_, _ in results for v in ids_]
    assert sum(unfair for _, unfair in results) == 0
    assert len(claimed) == 32 * 60 and len(set(claimed)) == len(claimed)  # no job twice
    engine = create_engine(url)
    with engine.connect() as conn:
        running: Counter[int] = Counter(dict(conn.execute(text(
            "SELECT owner_id, count(*) FROM video WHERE status = 'processing' GROUP BY owner_id"
        )).all()))  # fmt: skip
        tokens = conn.scalar(text("SELECT count(DISTINCT claim_token) FROM video "
                                  "WHERE status = 'processing'"))  # fmt: skip
        assert tokens == len(claimed)
        per_owner = [running.get(o, 0) for o in range(1, OWNERS + 1)]
        assert max(per_owner) - min(per_owner) <= 1, per_owner  # every owner still has queued
        assert stored(conn) == recount(conn)
    engine.dispose()


def _positions(url: str, ids: list[int], exact: bool) -> dict[int, Any]:
    async def read() -> dict[int, Any]:
        db = create_async_engine(url.replace("+psycopg", "+asyncpg"))
        try:
            async with AsyncSession(db) as session:
                if exact:
                    return await queue_positions(session, POLICY, utcnow(), ids)
                found: dict[int, Any] = {}
                for start in range(0, len(ids), 500):
                    found |= await estimate_positions(session, set(ids[start : start + 500]))
                return found
        finally:
            await db.dispose()

    return asyncio.run(read())


def _claim_order(engine: Engine, ids: list[int]) -> list[int]:
    store = JobStore(sessionmaker(engine, expire_on_commit=False), 600, POLICY)
    order = []
    for hint in ids:  # one message per job
        claim = store.claim(hint, uuid.uuid4().hex)
        assert isinstance(claim, Claim)
        order.append(claim.video_id)
    return order


def test_positions_are_the_claim_order_exactly_up_to_the_exact_limit(postgres_url: str) -> None:
    engine = workload.postgres_engine(postgres_url)
    ids = _queue(engine, POSITION_EXACT_MAX // OWNERS, shuffled=False)
    url = engine.url.render_as_string(hide_password=False)
    positions = _positions(url, ids, exact=True)
    assert sorted(positions.values()) == list(range(1, len(ids) + 1))
    assert _claim_order(engine, ids) == sorted(ids, key=positions.__getitem__)
    engine.dispose()


def test_estimated_positions_at_ten_thousand_queued_fall_in_the_round_claimed(
    postgres_url: str,
) -> None:
    """Past the exact limit: every job is claimed inside the range its estimate gives (the
    places of its round), and the estimate is near: median error under 10 % of the position."""
    engine = workload.postgres_engine(postgres_url)
    ids = _queue(engine, 100, shuffled=True)
    _claim_order(engine, ids[:150])  # some owners have jobs running already
    with engine.connect() as conn:
        queued = [r for (r,) in conn.execute(text("SELECT id FROM video WHERE status = 'queued'"))]
    assert len(queued) == len(ids) - 150
    url = engine.url.render_as_string(hide_password=False)
    estimates = _positions(url, queued, exact=False)
    order = _claim_order(engine, queued)
    place = {video: n + 1 for n, video in enumerate(order)}
    outside = [v for v in queued if not estimates[v].low <= place[v] <= estimates[v].high]
    assert outside == []
    errors = [abs(estimates[v].position - place[v]) / place[v] for v in queued]
    assert statistics.median(errors) < 0.10, statistics.median(errors)
    engine.dispose()
