"""Retries backed off per job (core/jobs/retries.py), on the real JobStore: a released job is
not claimable before its retry time, whatever message comes (its own included), and the first
claim after that time wakes it; clients see it `queued` with its `retry_at` and no place in
line."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, update
from sqlalchemy.orm import sessionmaker

from app.videos.service import summary
from app.videos.standing import Standing
from core.jobs.scheduling import SchedulingPolicy
from core.jobs.store import Claim, ClaimRefused, JobStore
from core.models import Base, Video, VideoStatus, utcnow
from core.settings import Settings
from tests.factories import queued_jobs, user_row

pytestmark = pytest.mark.fast


def _store(db: Path, fair: bool) -> JobStore:
    engine = create_engine(f"sqlite:///{db}")
    Base.metadata.create_all(engine)
    policy = SchedulingPolicy(fair=fair, lane_promote_seconds=300)
    return JobStore(sessionmaker(engine, expire_on_commit=False), 60, policy)


def _due_now(jobs: JobStore, video_id: int) -> None:
    with jobs.sessions.begin() as session:
        session.execute(update(Video).where(Video.id == video_id)
                        .values(retry_at=utcnow() - timedelta(seconds=1)))  # fmt: skip


@pytest.mark.parametrize("fair", [True, False], ids=["fair", "fifo"])
def test_a_released_job_waits_for_its_retry_time_then_is_woken(tmp_path: Path, fair: bool) -> None:
    jobs = _store(tmp_path / "r.db", fair)
    owner = user_row(jobs)
    first, other = queued_jobs(jobs, owner, 2)
    claim = jobs.claim(first, uuid.uuid4().hex)
    assert isinstance(claim, Claim) and claim.video_id == first
    retry_at = utcnow() + timedelta(seconds=60)
    assert jobs.release_for_retry(claim, "S3 unreachable", retry_at, interrupted=True)

    early = jobs.claim(first, uuid.uuid4().hex)  # its own message, a minute early
    if fair:  # any message takes the fairest claimable job: the other one, never the waiting one
        assert isinstance(early, Claim) and early.video_id == other
        assert jobs.complete(early, "p", "t", 1.0)
        early = jobs.claim(first, uuid.uuid4().hex)
    assert isinstance(early, ClaimRefused) and early.reason == "waiting"
    assert early.retry_at is not None
    assert abs((early.retry_at.replace(tzinfo=retry_at.tzinfo) - retry_at).total_seconds()) < 1

    _due_now(jobs, first)
    again = jobs.claim(first, uuid.uuid4().hex)
    assert isinstance(again, Claim) and again.video_id == first and again.attempt == 2
    assert (again.interruptions, again.failures) == (1, 0), "charged to the service"
    assert again.interrupted_since is not None


def test_clients_see_a_waiting_retry_as_queued_with_its_time(tmp_path: Path) -> None:
    jobs = _store(tmp_path / "r.db", fair=True)
    (video_id,) = queued_jobs(jobs, user_row(jobs), 1)
    claim = jobs.claim(video_id, uuid.uuid4().hex)
    assert isinstance(claim, Claim)
    retry_at = utcnow() + timedelta(seconds=30)
    assert jobs.release_for_retry(claim, "FFmpeg crashed (signal 11)", retry_at, interrupted=False)
    with jobs.sessions() as session:
        video = session.get(Video, video_id)
        assert video is not None and video.status == VideoStatus.retrying
        shown = summary(Settings(), video, Standing(None, 42))
    assert shown.status == "queued" and shown.queue_position is None and shown.eta_seconds == 42
    assert shown.retry_at is not None
    assert abs((shown.retry_at - retry_at).total_seconds()) < 1
