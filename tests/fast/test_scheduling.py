"""Who runs next (core/jobs/scheduling.py) on a real SQLite database through the real JobStore:
fair across users, short lane first, aged jobs promoted, the per-user cap, and FIFO when asked."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import sessionmaker

from core.jobs.scheduling import NORMAL, SHORT, SchedulingPolicy
from core.jobs.store import Claim, ClaimRefused, JobStore
from core.models import Base, Video, VideoStatus
from tests.factories import queued_jobs, user_row


@pytest.fixture
def make_store(tmp_path: Path):  # type: ignore[no-untyped-def]
    engine = create_engine(f"sqlite:///{tmp_path}/s.db")
    Base.metadata.create_all(engine)
    sessions = sessionmaker(engine, expire_on_commit=False)

    def make(**policy: object) -> JobStore:
        return JobStore(sessions, lease_seconds=30, policy=SchedulingPolicy(**policy))  # type: ignore[arg-type]

    return make


def _claim(jobs: JobStore, hint: int) -> int:
    claim = jobs.claim(hint, str(uuid.uuid4()))
    assert isinstance(claim, Claim), claim
    return claim.video_id


def test_one_users_forty_jobs_do_not_hold_back_another_users_one(make_store) -> None:  # type: ignore[no-untyped-def]
    jobs = make_store()
    a, b = user_row(jobs), user_row(jobs)
    a_jobs = queued_jobs(jobs, a, 40, age=60)
    (b_job,) = queued_jobs(jobs, b, 1)
    first, second = _claim(jobs, a_jobs[0]), _claim(jobs, a_jobs[1])
    assert first == a_jobs[0]  # nobody runs anything yet: oldest first
    assert second == b_job  # A now has one running, B none: B's job goes next
    assert _claim(jobs, a_jobs[2]) == a_jobs[1]  # then A again, in order


def test_when_both_owners_run_nothing_the_one_served_longest_ago_goes_first(make_store) -> None:  # type: ignore[no-untyped-def]
    """One slot, each job finished before the next pick: both owners run nothing at every pick,
    and A's uploads are older — yet they take turns, because the last-served owner goes after."""
    jobs = make_store()
    a, b = user_row(jobs), user_row(jobs)
    a_jobs = queued_jobs(jobs, a, 3, age=60)
    b_jobs = queued_jobs(jobs, b, 2)
    order = []
    for _ in range(4):
        claim = jobs.claim(a_jobs[-1], str(uuid.uuid4()))
        assert isinstance(claim, Claim) and jobs.complete(claim, "p", "t", 1.0)
        order.append(claim.video_id)
    assert order == [a_jobs[0], b_jobs[0], a_jobs[1], b_jobs[1]]


def test_the_short_lane_goes_first_but_an_old_job_is_promoted(make_store) -> None:  # type: ignore[no-untyped-def]
    jobs = make_store(lane_promote_seconds=120)
    owners = [user_row(jobs) for _ in range(4)]
    long_ones = [queued_jobs(jobs, owner, 1, NORMAL, age=60)[0] for owner in owners[:3]]
    (short,) = queued_jobs(jobs, owners[3], 1, SHORT)
    assert _claim(jobs, long_ones[0]) == short  # queued last, picked first
    (ancient,) = queued_jobs(jobs, user_row(jobs), 1, NORMAL, age=600)
    (short2,) = queued_jobs(jobs, user_row(jobs), 1, SHORT)
    assert _claim(jobs, long_ones[1]) == ancient  # waited past LANE_PROMOTE_SECONDS
    assert _claim(jobs, long_ones[2]) == short2


def test_the_cap_holds_and_refuses_with_capped(make_store) -> None:  # type: ignore[no-untyped-def]
    jobs = make_store(max_active_per_user=2)
    a = user_row(jobs)
    a_jobs = queued_jobs(jobs, a, 4)
    assert [_claim(jobs, a_jobs[0]), _claim(jobs, a_jobs[1])] == a_jobs[:2]
    refused = jobs.claim(a_jobs[2], "t")
    assert isinstance(refused, ClaimRefused) and refused.reason == "capped"
    (b_job,) = queued_jobs(jobs, user_row(jobs), 1)
    assert _claim(jobs, a_jobs[2]) == b_job  # A's message serves B; A's jobs wait their turn


def test_messages_and_jobs_stay_in_step(make_store) -> None:  # type: ignore[no-untyped-def]
    """Every message claims one job or none; a deleted job's message is dropped; each job runs
    exactly once whichever messages arrive, in whatever order."""
    jobs = make_store()
    owners = [user_row(jobs) for _ in range(3)]
    ids = [i for owner in owners for i in queued_jobs(jobs, owner, 3)]
    with jobs.sessions.begin() as session:
        session.delete(session.get(Video, ids[4]))
    claimed = []
    for hint in reversed(ids):  # messages in any order
        claim = jobs.claim(hint, str(uuid.uuid4()))
        if isinstance(claim, Claim):
            claimed.append(claim.video_id)
            assert jobs.complete(claim, "p", "t", 1.0)
        else:
            assert claim.reason in ("missing", "finished")
    assert sorted(claimed) == sorted(set(ids) - {ids[4]})
    with jobs.sessions() as session:
        statuses = set(session.scalars(select(Video.status)))
    assert statuses == {VideoStatus.processed}


def test_fifo_runs_each_messages_own_job(make_store) -> None:  # type: ignore[no-untyped-def]
    jobs = make_store(fair=False)
    a_jobs = queued_jobs(jobs, user_row(jobs), 3, age=60)
    (b_job,) = queued_jobs(jobs, user_row(jobs), 1)
    assert _claim(jobs, a_jobs[0]) == a_jobs[0] and _claim(jobs, a_jobs[1]) == a_jobs[1]
    assert _claim(jobs, b_job) == b_job
