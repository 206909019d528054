"""A worker process that dies holding a job (a killed pool child, an OOM kill) gives the job up
at once on its host: the reconciler ends the claims of dead processes (JobStore.
expire_dead_claims), and the next claim — any message's — takes the job back first, with a
worker loss charged. A live holder keeps its job."""

from __future__ import annotations

import multiprocessing
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

from core.jobs.scheduling import SchedulingPolicy
from core.jobs.store import Claim, JobStore
from core.models import Base, Video
from tests.factories import queued_jobs, user_row
from worker.orphans import process_alive

pytestmark = pytest.mark.fast


def _store(db: Path) -> JobStore:
    engine = create_engine(f"sqlite:///{db}")
    Base.metadata.create_all(engine)
    return JobStore(sessionmaker(engine, expire_on_commit=False), 600, SchedulingPolicy())


def _claim_in_a_child(db: str, video_id: int) -> None:
    claim = _store(Path(db)).claim(video_id, uuid.uuid4().hex)
    assert isinstance(claim, Claim)


def test_a_job_whose_process_died_is_taken_back_at_once(tmp_path: Path) -> None:
    jobs = _store(tmp_path / "d.db")
    owner = user_row(jobs)
    held, queued = queued_jobs(jobs, owner, 2)
    child = multiprocessing.get_context("spawn").Process(
        target=_claim_in_a_child, args=(str(tmp_path / "d.db"), held)
    )
    child.start()
    child.join(60)
    assert child.exitcode == 0 and child.pid is not None
    assert not process_alive(child.pid)
    with jobs.sessions() as session:
        row = session.get(Video, held)
        assert row is not None and row.claimed_by is not None
        assert row.claimed_by.endswith(f":{child.pid}")

    assert jobs.expire_dead_claims(process_alive) == [held]
    again = jobs.claim(queued, uuid.uuid4().hex)  # another job's message: the dead one's job first
    assert isinstance(again, Claim) and again.video_id == held
    assert again.worker_losses == 1 and again.attempt == 2


def test_a_live_holder_keeps_its_job(tmp_path: Path) -> None:
    jobs = _store(tmp_path / "d.db")
    (video_id,) = queued_jobs(jobs, user_row(jobs), 1)
    assert isinstance(jobs.claim(video_id, uuid.uuid4().hex), Claim)  # held by this process
    assert jobs.expire_dead_claims(process_alive) == []
