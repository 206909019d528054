"""The fair claim on Postgres is one call to rf_claim_fair (core/jobs/claim_sql.py); on SQLite
it is JobStore's statements. Every scheduling scenario of tests/fast/test_scheduling.py runs
here again, through the Postgres function: the same picks, the same refusals."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from sqlalchemy.orm import sessionmaker

from core.jobs.scheduling import SchedulingPolicy
from core.jobs.store import JobStore
from tests import workload
from tests.fast.test_scheduling import (  # noqa: F401 - collected here, on Postgres
    test_fifo_runs_each_messages_own_job,
    test_messages_and_jobs_stay_in_step,
    test_one_users_forty_jobs_do_not_hold_back_another_users_one,
    test_the_cap_holds_and_refuses_with_capped,
    test_the_short_lane_goes_first_but_an_old_job_is_promoted,
    test_when_both_owners_run_nothing_the_one_served_longest_ago_goes_first,
)


@pytest.fixture
def make_store(postgres_url: str) -> Iterator[Callable[..., JobStore]]:
    engine = workload.postgres_engine(postgres_url)
    sessions = sessionmaker(engine, expire_on_commit=False)

    def make(**policy: object) -> JobStore:
        return JobStore(sessions, lease_seconds=30, policy=SchedulingPolicy(**policy))  # type: ignore[arg-type]

    yield make
    engine.dispose()
