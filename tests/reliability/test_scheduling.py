"""Fair scheduling and lanes with real workers: what a user waits for, measured on the rows."""

from __future__ import annotations

from pathlib import Path

from core.jobs.store import CLAIM_LOCK_KEY
from devstack.servers import wait_until
from devstack.stack import Stack
from tests.api_client import Api
from tests.helpers import db
from tests.reliability.conftest import MakeStack


def _rows(stack: Stack, ids: list[int]) -> dict[int, tuple[str, float | None, float | None]]:
    """id -> (status, started, finished) in epoch seconds."""
    with db(stack) as conn:
        rows = conn.execute(
            "SELECT id, status, extract(epoch FROM started_at), extract(epoch FROM processed_at) "
            "FROM video WHERE id = ANY(%s)", (ids,)).fetchall()  # fmt: skip
    return {r[0]: (r[1], r[2] and float(r[2]), r[3] and float(r[3])) for r in rows}


def _processed(stack: Stack, ids: list[int]) -> bool:
    return all(status == "processed" for status, _, _ in _rows(stack, ids).values())


def test_one_users_backlog_does_not_delay_another_user(
    make_stack: MakeStack, clip_small: Path
) -> None:
    """A queues 40 jobs, then B queues 1; two worker slots: B starts within one job duration
    (with FIFO it would start after all 40)."""
    stack = make_stack(worker=False, WORKER_CONCURRENCY="2", MAX_ACTIVE_JOBS_PER_USER="0")
    api = Api(stack.base_url)
    alice, bob = api.user(), api.user()
    a_ids = [api.upload(alice, clip_small, title=f"a{i}").json()["video_id"] for i in range(40)]
    b_id = api.upload(bob, clip_small, title="b").json()["video_id"]
    stack.start_worker()
    wait_until(lambda: _processed(stack, [b_id]), 120, "B's job")
    rows = _rows(stack, [*a_ids, b_id])
    first_start = min(started for _, started, _ in rows.values() if started)
    done = [(end - start) for _, start, end in rows.values() if start and end]
    average = sum(done) / len(done)
    waited = rows[b_id][1] - first_start  # type: ignore[operator]
    a_done_before_b = len([i for i in a_ids if rows[i][2] and rows[i][2] <= rows[b_id][1]])  # type: ignore[operator]
    print(
        f"B started {waited:.2f} s after the first job; average job {average:.2f} s; "
        f"A jobs finished before B started: {a_done_before_b}"
    )
    assert waited <= average * 1.5, (waited, average)
    assert a_done_before_b <= 2


def test_a_short_clip_is_not_stuck_behind_long_inputs(
    make_stack: MakeStack, clip_small: Path, clip_5s: Path
) -> None:
    """Ten long inputs (normal lane), then one short (short lane), one worker slot: the short
    clip is the next job picked after the one already running."""
    stack = make_stack(worker=False, SHORT_LANE_MAX_BYTES=str(clip_small.stat().st_size),
                       MAX_ACTIVE_JOBS_PER_USER="0")  # fmt: skip
    api = Api(stack.base_url)
    auth = api.user()
    long_ids = [api.upload(auth, clip_5s, title=f"long{i}").json()["video_id"] for i in range(10)]
    short_id = api.upload(auth, clip_small, title="short").json()["video_id"]
    stack.start_worker()
    wait_until(lambda: _processed(stack, [short_id]), 120, "the short clip")
    rows = _rows(stack, [*long_ids, short_id])
    started_before = [i for i in long_ids if rows[i][1] and rows[i][1] < rows[short_id][1]]  # type: ignore[operator]
    assert len(started_before) <= 1, started_before  # only the job that was already running


def test_a_claim_lock_held_forever_costs_fairness_not_progress(
    make_stack: MakeStack, clip_small: Path
) -> None:
    """A holder of the fair-claim lock frozen mid-claim (here: a session that took it and never
    lets go): the worker's claim waits CLAIM_LOCK_WAIT_SECONDS, then picks without the lock —
    the job is processed, and the worker says so in its log."""
    stack = make_stack(worker=False)
    api = Api(stack.base_url)
    video_id = api.upload(api.user(), clip_small, title="locked out").json()["video_id"]
    with db(stack) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (CLAIM_LOCK_KEY,))
        stack.start_worker()
        wait_until(lambda: _processed(stack, [video_id]), 120, "the job, lock or no lock")
        status, started, _ = _rows(stack, [video_id])[video_id]
    assert status == "processed" and started is not None
    assert "fair-claim lock not had" in stack.processes["worker"].log_text()
