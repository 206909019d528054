"""Leases and fencing on a real Postgres: a zombie can never overwrite a newer attempt."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import create_engine, update
from sqlalchemy.orm import sessionmaker

from core.jobs.store import Claim, ClaimRefused, JobStore
from core.models import Base, User, Video, utcnow
from devstack.servers import create_database


def _store(postgres_url: str) -> JobStore:
    url = create_database(postgres_url).replace("+asyncpg", "+psycopg")
    engine = create_engine(url)
    Base.metadata.create_all(engine)
    return JobStore(sessionmaker(engine, expire_on_commit=False), lease_seconds=30)


def _video(jobs: JobStore) -> int:
    with jobs.sessions.begin() as session:
        user = User(
            email=f"{uuid.uuid4().hex}@x.io", first_name="a", last_name="b", password_hash="x"
        )
        session.add(user)
        session.flush()
        video = Video(owner_id=user.id, title="t", task_id=str(uuid.uuid4()), original_key="k",
                      original_content_type="video/mp4", original_bytes=1)  # fmt: skip
        session.add(video)
        session.flush()
        return video.id


def test_zombie_cannot_write_after_its_lease_is_taken_over(postgres_url: str) -> None:
    jobs = _store(postgres_url)
    video_id = _video(jobs)
    first = jobs.claim(video_id, "token-a")
    assert isinstance(first, Claim) and first.attempt == 1

    duplicate = jobs.claim(video_id, "token-dup")
    assert isinstance(duplicate, ClaimRefused) and duplicate.reason == "held"

    with jobs.sessions.begin() as session:  # the first worker froze past its lease
        session.execute(update(Video).where(Video.id == video_id)
                        .values(lease_until=utcnow() - timedelta(seconds=1)))  # fmt: skip
    second = jobs.claim(video_id, "token-b")
    assert isinstance(second, Claim) and second.attempt == 2

    assert jobs.heartbeat(first, 50) is False
    assert jobs.complete(first, "zombie.mp4", "zombie.jpg", 1.0) is False
    assert jobs.fail(first, "zombie failure") is False
    assert jobs.complete(second, "real.mp4", "real.jpg", 9.0) is True
    with jobs.sessions() as session:
        video = session.get(Video, video_id)
        assert video is not None
        assert (video.status, video.processed_key, video.attempts) == ("processed", "real.mp4", 2)
    finished = jobs.claim(video_id, "token-late")
    assert isinstance(finished, ClaimRefused) and finished.reason == "finished"


def test_deleted_job_refuses_every_write(postgres_url: str) -> None:
    jobs = _store(postgres_url)
    video_id = _video(jobs)
    claim = jobs.claim(video_id, "token")
    assert isinstance(claim, Claim)
    with jobs.sessions.begin() as session:
        session.delete(session.get(Video, video_id))
    assert jobs.heartbeat(claim, 10) is False
    assert jobs.complete(claim, "a", "b", 1.0) is False
    missing = jobs.claim(video_id, "again")
    assert isinstance(missing, ClaimRefused) and missing.reason == "missing"


def test_fair_claims_on_postgres_skip_locked_rows_and_never_share_a_job(postgres_url: str) -> None:
    """The scheduler's query on the real database: FOR UPDATE OF video SKIP LOCKED over the
    outer join; eight concurrent claimers get eight different jobs, fairest first."""
    from concurrent.futures import ThreadPoolExecutor

    from core.jobs.scheduling import SchedulingPolicy

    base = _store(postgres_url)
    jobs = JobStore(base.sessions, lease_seconds=30, policy=SchedulingPolicy(max_active_per_user=6))
    ids = [_video(jobs) for _ in range(10)]  # ten users, one job each
    with ThreadPoolExecutor(8) as pool:
        claims = list(pool.map(lambda i: jobs.claim(ids[i], f"token-{i}"), range(8)))
    claimed = [c.video_id for c in claims if isinstance(c, Claim)]
    assert len(claimed) == len(set(claimed)) == 8
