"""The claim's SQL. On Postgres a fair claim is one server-side function, so a claim is one
round trip and the fleet's one serialised step holds no lock across the network:
`SELECT * FROM rf_claim_fair(...)` in autocommit reads the message's own job, takes the claim
lock, picks the fairest head, claims it and commits — the lock goes with the commit, before any
client code runs again. In a VOLATILE PL/pgSQL function each statement takes a new snapshot,
so the pick (after the lock) sees every claim committed before the lock was had.

It is JobStore.claim's logic for SQLite (core/jobs/store.py) written in SQL — the same
outcomes, the same order as `core.jobs.scheduling.fairest` and the same index
(ix_owner_queue_pick); tests/reliability/test_claim_parity.py runs the scheduling scenarios
through both. Outcomes: claimed, missing, refused (with the message's own job's status and
lease, for the reason), promote (jobs are due for lane promotion: move them, then call again).

A holder frozen mid-claim costs one pick its fairness, never progress: after `wait_ms` the
lock_timeout error is caught and the pick goes ahead without the lock, flagged `unfair`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    DateTime,
    Update,
    bindparam,
    case,
    or_,
    select,
    text,
    update,
)

from core.jobs.scheduling import SchedulingPolicy, claimable, due_exists
from core.models import Video, VideoStatus, status_is

CLAIM_LOCK_KEY = 0x7265656C  # "reel"
# The claimed job's retry budgets, and the columns of a row that claimed nothing.
CLAIMED = "v.failures, v.interruptions, v.interrupted_since, v.worker_losses"
NOTHING = (
    "NULL::integer, NULL::integer, NULL::varchar, NULL::text, false, NULL::integer, "
    "NULL::integer, NULL::timestamptz, NULL::integer"
)

FUNCTION = (
    """
CREATE OR REPLACE FUNCTION rf_claim_fair(
    p_video_id integer, p_token varchar, p_lease_seconds double precision, p_cap integer,
    p_wait_ms integer, p_promote_before timestamptz, p_claimer varchar)
RETURNS TABLE (outcome text, claimed_id integer, claimed_attempts integer,
               claimed_key varchar, claimed_error text, claimed_unfair boolean,
               claimed_failures integer, claimed_interruptions integer,
               claimed_interrupted_since timestamptz, claimed_worker_losses integer,
               current_status varchar, current_lease timestamptz, current_retry timestamptz)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    locked boolean := true;
    picked integer;
    at timestamptz := clock_timestamp();
    cur_status varchar;
    cur_lease timestamptz;
    cur_retry timestamptz;
    oldest timestamptz;
    due_retry timestamptz;
BEGIN
    SELECT v.status, v.lease_until, v.retry_at INTO cur_status, cur_lease, cur_retry
      FROM video AS v WHERE v.id = p_video_id;
    IF NOT FOUND THEN  -- deleted: its place in line went with it
        RETURN QUERY SELECT 'missing'::text, {NOTHING}, NULL::varchar, NULL::timestamptz,
                            NULL::timestamptz;
        RETURN;
    END IF;
    IF cur_status = 'processing' AND (cur_lease IS NULL OR cur_lease < at) THEN
        -- abandoned by a dead worker: its own message claims it back
        RETURN QUERY
        UPDATE video AS v
           SET status = 'processing', attempts = v.attempts + 1, claim_token = p_token,
               claimed_by = p_claimer,
               lease_until = at + make_interval(secs => p_lease_seconds), started_at = at,
               progress = 0, worker_losses = v.worker_losses + 1
         WHERE v.id = p_video_id AND v.status = 'processing' AND v.lease_until < at
        RETURNING 'claimed'::text, v.id, v.attempts, v.original_key, v.error, false,
                  {CLAIMED}, cur_status, cur_lease, cur_retry;
        IF NOT FOUND THEN
            RETURN QUERY SELECT 'refused'::text, {NOTHING}, cur_status, cur_lease, cur_retry;
        END IF;
        RETURN;
    END IF;
    -- The oldest queued job not in lane 0: ORDER BY … LIMIT 1 on ix_video_queue_promote's own
    -- order, so the plan is that index's first entry whatever the parameter (an EXISTS with a
    -- generic plan could choose a scan of the table).
    SELECT v.uploaded_at INTO oldest FROM video AS v
     WHERE v.status = 'queued' AND v.priority > 0 ORDER BY v.uploaded_at LIMIT 1;
    -- The next retry due (ix_video_retry_due's first entry): a due one is woken first.
    SELECT v.retry_at INTO due_retry FROM video AS v
     WHERE v.status = 'retrying' ORDER BY v.retry_at LIMIT 1;
    IF oldest < p_promote_before OR due_retry <= at THEN
        RETURN QUERY SELECT 'promote'::text, {NOTHING}, cur_status, cur_lease, cur_retry;
        RETURN;
    END IF;
    IF NOT pg_try_advisory_xact_lock({CLAIM_LOCK_KEY}) THEN  -- free: no subtransaction
        BEGIN  -- wait in Postgres's lock queue (granted in turn, no polling), bounded
            PERFORM set_config('lock_timeout', p_wait_ms || 'ms', true);
            PERFORM pg_advisory_xact_lock({CLAIM_LOCK_KEY});
            PERFORM set_config('lock_timeout', '0', true);
        EXCEPTION WHEN lock_not_available THEN
            locked := false;
        END;
    END IF;
    FOR attempt IN 1..3 LOOP  -- a head can be deleted between the pick and the update
        at := clock_timestamp();  -- the lock may have been waited for: lease from now
        -- A job whose worker died goes first (ix_video_processing_lease's first entry): it was
        -- running, and its own message may be far back in the queue.
        SELECT v.id INTO picked FROM video AS v
         WHERE v.status = 'processing' AND v.lease_until < at ORDER BY v.lease_until LIMIT 1;
        IF picked IS NULL THEN
            SELECT q.head_id INTO picked FROM owner_queue AS q
             WHERE q.queued > 0 AND (p_cap = 0 OR q.running < p_cap)
             ORDER BY q.running, q.head_lane, q.last_started ASC NULLS FIRST, q.head_at, q.head_id
             LIMIT 1;
        END IF;
        EXIT WHEN picked IS NULL;
        RETURN QUERY
        UPDATE video AS v
           SET status = 'processing', attempts = v.attempts + 1, claim_token = p_token,
               claimed_by = p_claimer,
               lease_until = at + make_interval(secs => p_lease_seconds), started_at = at,
               progress = 0,
               worker_losses = v.worker_losses + CASE WHEN v.status = 'processing' THEN 1 ELSE 0 END
         WHERE v.id = picked
           AND (v.status = 'queued' OR (v.status = 'processing' AND v.lease_until < at))
        RETURNING 'claimed'::text, v.id, v.attempts, v.original_key, v.error, NOT locked,
                  {CLAIMED}, cur_status, cur_lease, cur_retry;
        IF FOUND THEN
            RETURN;
        END IF;
    END LOOP;
    RETURN QUERY SELECT 'refused'::text, NULL::integer, NULL::integer, NULL::varchar, NULL::text,
                        NOT locked, NULL::integer, NULL::integer, NULL::timestamptz,
                        NULL::integer, cur_status, cur_lease, cur_retry;
END $$
""".replace("{CLAIM_LOCK_KEY}", str(CLAIM_LOCK_KEY))
    .replace("{CLAIMED}", CLAIMED)
    .replace("{NOTHING}", NOTHING)
)

CALL_FAIR = text(
    "SELECT * FROM rf_claim_fair(:video_id, :token, :lease_seconds, :cap, :wait_ms, "
    ":promote_before, :claimer)"
)
DROP = (  # this revision's function and 0008's (one argument fewer)
    "DROP FUNCTION IF EXISTS rf_claim_fair(integer, varchar, double precision, integer, "
    "integer, timestamptz, varchar), rf_claim_fair(integer, varchar, double precision, integer, "
    "integer, timestamptz)"
)


# The same claim as statements, for SQLite and for FIFO claims anywhere (core/jobs/store.py).
BUDGETS = (Video.failures, Video.interruptions, Video.interrupted_since, Video.worker_losses)


def read_current(conn: Connection, video_id: int, policy: SchedulingPolicy, now: datetime) -> Any:
    """The message's own job (status, lease, retry time) and whether any job is due for a wake
    (a retry whose time came, or — for fair picks — a lane promotion): one statement."""
    due = retry_due_exists()
    if policy.fair:
        due = or_(due, due_exists())
    statement = select(Video.status, Video.lease_until, Video.retry_at, due.label("due")).where(
        Video.id == bindparam("video_id")
    )
    promoted = now - timedelta(seconds=policy.lane_promote_seconds)
    values = {"video_id": video_id, "promoted": promoted, "now": now}
    return conn.execute(statement, values).one_or_none()


def retry_due_exists() -> ColumnElement[bool]:
    """Whether a retrying job's time has come (bind `now`): one probe of ix_video_retry_due."""
    due = (
        select(Video.id)
        .where(status_is(VideoStatus.retrying))
        .where(Video.retry_at <= bindparam("now", type_=DateTime(timezone=True)))
        .limit(1)
    )
    return due.exists()


def claim_statement(which: ColumnElement[bool]) -> Update:
    """queued (or processing under an expired lease) → processing: the compare-and-set."""
    now = bindparam("now", type_=DateTime(timezone=True))
    return (
        update(Video)
        .where(which, claimable(now))
        .values(
            status=VideoStatus.processing,
            attempts=Video.attempts + 1,
            claim_token=bindparam("token"),
            claimed_by=bindparam("claimer"),
            lease_until=bindparam("lease", type_=DateTime(timezone=True)),
            started_at=now,
            progress=0,
            # taken back from a worker that died holding it (the old row's status)
            worker_losses=Video.worker_losses
            + case((status_is(VideoStatus.processing), 1), else_=0),
        )
        .returning(Video.id, Video.attempts, Video.original_key, Video.error, *BUDGETS)
    )
