"""Past POSITION_EXACT_MAX queued jobs the position is estimated from the counters
(core/jobs/positions.py); on the embedded default's SQLite too, every job is then claimed inside
the range its estimate gives (the places of its fair round)."""

from __future__ import annotations

import random
import uuid
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.orm import sessionmaker

from core.jobs import positions
from core.jobs.scheduling import SchedulingPolicy
from core.jobs.store import Claim, JobStore
from core.models import Base, utcnow
from tests import workload

pytestmark = pytest.mark.anyio


async def test_every_job_is_claimed_within_its_estimated_range(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(positions, "POSITION_EXACT_MAX", 0)  # always estimate
    engine = workload.sqlite_engine(f"{tmp_path}/e.db")
    Base.metadata.create_all(engine)
    random.seed(3)
    policy = SchedulingPolicy(fair=True, lane_promote_seconds=3600)
    jobs = JobStore(sessionmaker(engine, expire_on_commit=False), 60, policy)
    owners = workload.users(engine, 6)
    queued = [v for _ in range(5) for o in owners
              for v in workload.upload(engine, o, random.randint(1, 4), random.choice([0, 1, 2]))]  # fmt: skip
    for hint in queued[:4]:  # some owners have jobs running
        assert isinstance(jobs.claim(hint, uuid.uuid4().hex), Claim)
    db = create_async_engine(f"sqlite+aiosqlite:///{tmp_path}/e.db")
    async with AsyncSession(db) as session:
        estimates = await positions.queue_positions(session, policy, utcnow(), queued)
        ranges = await positions.estimate_positions(session, set(queued))
    await db.dispose()
    waiting = sorted(ranges)
    assert set(estimates) == set(waiting) and len(waiting) == len(queued) - 4
    order = []
    for hint in waiting:
        claim = jobs.claim(hint, uuid.uuid4().hex)
        assert isinstance(claim, Claim)
        order.append(claim.video_id)
    for place, video in enumerate(order, start=1):
        assert ranges[video].low <= place <= ranges[video].high, (video, place, ranges[video])
        assert ranges[video].low <= estimates[video] <= ranges[video].high
