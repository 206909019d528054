"""queue_position and eta_seconds (core/jobs/eta.py): the positions are the order the real
JobStore then claims the jobs in (fair and FIFO), and the ETA arithmetic deals the jobs ahead to
the slots as they free up."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, update
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.orm import sessionmaker

from core.jobs.eta import Fleet, Running, eta_seconds
from core.jobs.positions import queue_positions
from core.jobs.scheduling import SHORT, SchedulingPolicy
from core.jobs.store import Claim, JobStore
from core.models import Base, Video, VideoStatus, utcnow
from tests.factories import queued_jobs, user_row

pytestmark = pytest.mark.fast


async def _positions(db: Path, policy: SchedulingPolicy, ids: list[int]) -> dict[int, int]:
    engine = create_async_engine(f"sqlite+aiosqlite:///{db}")
    try:
        async with engine.connect() as conn, AsyncSession(conn) as session:
            return await queue_positions(session, policy, utcnow(), ids)
    finally:
        await engine.dispose()


def _store(db: Path, policy: SchedulingPolicy) -> JobStore:
    engine = create_engine(f"sqlite:///{db}")
    Base.metadata.create_all(engine)
    return JobStore(sessionmaker(engine, expire_on_commit=False), lease_seconds=60, policy=policy)


@pytest.mark.anyio
@pytest.mark.parametrize("fair", [True, False], ids=["fair", "fifo"])
async def test_positions_are_the_order_the_workers_claim_in(tmp_path: Path, fair: bool) -> None:
    db = tmp_path / "eta.db"
    policy = SchedulingPolicy(fair=fair, lane_promote_seconds=300)
    jobs = _store(db, policy)
    a, b, c = user_row(jobs), user_row(jobs), user_row(jobs)
    running = queued_jobs(jobs, a, 1)
    assert isinstance(jobs.claim(running[0], str(uuid.uuid4())), Claim)  # A has one running
    queued = (
        queued_jobs(jobs, a, 5) + queued_jobs(jobs, b, 2) + queued_jobs(jobs, c, 1, SHORT)
        + queued_jobs(jobs, b, 1, SHORT) + queued_jobs(jobs, a, 1, age=900)  # promoted: old
    )  # fmt: skip
    positions = await _positions(db, policy, queued)
    assert sorted(positions.values()) == list(range(1, len(queued) + 1))
    predicted = sorted(queued, key=positions.__getitem__)
    claimed = []
    for hint in queued:  # one message per job, sent in upload order
        claim = jobs.claim(hint, str(uuid.uuid4()))
        assert isinstance(claim, Claim)
        claimed.append(claim.video_id)
    assert claimed == predicted
    if fair:
        assert predicted[0] != queued[0]  # A is running one already: others go first


@pytest.mark.anyio
async def test_only_queued_jobs_have_a_position(tmp_path: Path) -> None:
    db = tmp_path / "eta.db"
    jobs = _store(db, SchedulingPolicy())
    owner = user_row(jobs)
    done, waiting = queued_jobs(jobs, owner, 1), queued_jobs(jobs, owner, 1)
    with jobs.sessions.begin() as session:
        session.execute(update(Video).where(Video.id == done[0]).values(status=VideoStatus.failed))
    assert await _positions(db, SchedulingPolicy(), done + waiting) == {waiting[0]: 1}


def test_jobs_ahead_are_dealt_to_the_slots_as_they_free_up() -> None:
    # Two slots: one job 50 % done after 10 s (10 s left), one 25 % after 5 s (15 s left).
    fleet = Fleet(job_seconds=30.0, running=(Running(10, 50), Running(5, 25)))
    assert fleet.start_times(4) == [10.0, 15.0, 40.0, 45.0]
    now = utcnow()
    starts = fleet.start_times(4)
    assert eta_seconds(fleet, VideoStatus.queued, 0, None, 1, now, starts) == 40
    assert eta_seconds(fleet, VideoStatus.queued, 0, None, 3, now, starts) == 70
    assert eta_seconds(fleet, VideoStatus.processed, 100, now, None, now, starts) is None


def test_a_processing_job_is_timed_by_its_own_progress_rate() -> None:
    fleet = Fleet(job_seconds=100.0, running=())
    now = utcnow()
    started = now - timedelta(seconds=12)
    assert eta_seconds(fleet, VideoStatus.processing, 40, started, None, now, None) == 18
    # too early for a rate: the fleet's mean time less what has passed
    assert eta_seconds(fleet, VideoStatus.processing, 1, started, None, now, None) == 88
    # early on, blended: 10 % → 0.4 × the rate's 108 s + 0.6 × the mean's 88 s
    assert eta_seconds(fleet, VideoStatus.processing, 10, started, None, now, None) == 96


def test_nothing_measured_yet_means_no_eta_rather_than_a_guess() -> None:
    fleet = Fleet(job_seconds=None, running=())
    assert fleet.start_times(3) is None
    now = utcnow()
    assert eta_seconds(fleet, VideoStatus.queued, 0, None, 1, now, None) is None
    assert eta_seconds(fleet, VideoStatus.processing, 1, now, None, now, None) is None
