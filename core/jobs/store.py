"""The worker side of a job's life: claim, lease, fenced writes, and the re-send pick.

Every write after the claim is fenced by the claim token, so a worker that lost its claim (job
deleted, lease taken over) can never overwrite anything."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, Update, bindparam, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from core.jobs.claim_sql import CALL_FAIR, claim_statement, read_current
from core.jobs.claim_sql import CLAIM_LOCK_KEY as CLAIM_LOCK_KEY  # the lock fair claims take
from core.jobs.events import EventSink, event_now, no_sink
from core.jobs.retries import due_retries, wake
from core.jobs.scheduling import (
    SchedulingPolicy,
    abandoned_first,
    due_for_promotion,
    fairest,
    promote,
)
from core.jobs.stale import STALE_BATCH as STALE_BATCH  # the reconciler's batch
from core.jobs.stale import StaleJobs, claimer_id
from core.models import Video, VideoStatus, as_utc, utcnow
from core.webhooks.outbox import Outbox

TERMINAL = (VideoStatus.processed, VideoStatus.failed)
CLAIM_LOCK_WAIT_MS = 2000  # a frozen holder of the claim lock delays a pick this long at most
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Claim:
    video_id: int
    token: str
    attempt: int  # claims of this job so far, this one included (names its outputs)
    original_key: str
    previous_error: str | None
    # the retry budgets spent so far (core/jobs/retries.py)
    failures: int = 0
    interruptions: int = 0
    interrupted_since: datetime | None = None
    worker_losses: int = 0


@dataclass(frozen=True)
class ClaimRefused:
    reason: str  # "missing", "finished", "held", "capped" or "waiting" (a retry not yet due)
    lease_until: datetime | None = None
    retry_at: datetime | None = None


@dataclass(frozen=True)
class _Attempt:
    """What one try at a claim found: the claim, else the message's own job's status and lease
    (None: deleted) for the refusal; or jobs due for a wake (lane promotion, a retry whose time
    came), to move before a pick."""

    claim: Claim | None = None
    status: VideoStatus | None = None
    lease_until: datetime | None = None
    promote: bool = False
    retry_at: datetime | None = None


class JobStore(StaleJobs):
    def __init__(
        self,
        sessions: sessionmaker[Session],
        lease_seconds: int,
        policy: SchedulingPolicy | None = None,
        notify: EventSink = no_sink,
        outbox: Outbox | None = None,
        on_unfair_pick: Callable[[], None] = lambda: None,
    ) -> None:
        self.sessions = sessions
        self.lease = timedelta(seconds=lease_seconds)
        self.policy = policy or SchedulingPolicy(fair=False)
        self.notify = notify  # told of every committed change (core/jobs/events.py)
        self.outbox = outbox  # webhook deliveries, written with a terminal state
        self.unfair_picks = 0  # fair picks made without the lock (a frozen holder)
        self.on_unfair_pick = on_unfair_pick  # the worker counts them in a metric
        self._pick = fairest(self.policy)
        self._fairest = claim_statement(Video.id == self._pick.scalar_subquery())
        self._by_id = claim_statement(Video.id == bindparam("video_id"))
        self._abandoned = claim_statement(Video.id == abandoned_first().scalar_subquery())

    def claim(self, video_id: int, token: str) -> Claim | ClaimRefused:
        """Claim the job this message stands for — with a fair policy, the fairest claimable
        job instead (core/jobs/scheduling.py). Each claim is one compare-and-set:
        queued (or processing with an expired lease) → processing. Every statement here runs
        on its own (autocommit): each is atomic alone; a fair claim on Postgres is one round
        trip to rf_claim_fair, which commits before it returns (core/jobs/claim_sql.py)."""
        now = utcnow()
        with self.sessions() as session:
            conn = session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
            if self.policy.fair and conn.dialect.name == "postgresql":
                outcome = self._claim_on_server(conn, video_id, token, now)
            else:
                outcome = self._claim_here(conn, video_id, token, now)
        if outcome.promote:  # due for a wake: move them (row by row), then pick
            with self.sessions() as session:
                conn = session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
                wake(conn, due_retries(conn, now))
                if self.policy.fair:
                    promote(conn, due_for_promotion(conn, self.policy, now))
            return self.claim(video_id, token)
        claim = outcome.claim
        if claim is not None:  # committed: tell the live streams
            self.notify(event_now(claim.video_id, VideoStatus.processing, 0, claim.previous_error))
            return claim
        if outcome.status is None:
            return ClaimRefused("missing")  # deleted: its place in line went with it
        if outcome.status == VideoStatus.processing:
            return ClaimRefused("held", outcome.lease_until)
        if outcome.status == VideoStatus.queued:  # its owner is at the cap, or a race was lost
            return ClaimRefused("capped")
        if outcome.status == VideoStatus.retrying:  # its retry is not due yet
            return ClaimRefused("waiting", retry_at=outcome.retry_at)
        return ClaimRefused("finished")

    def _claim_on_server(
        self, conn: Connection, video_id: int, token: str, now: datetime
    ) -> _Attempt:
        promote_before = now - timedelta(seconds=self.policy.lane_promote_seconds)
        row = conn.execute(CALL_FAIR, {
            "video_id": video_id, "token": token, "lease_seconds": self.lease.total_seconds(),
            "cap": self.policy.max_active_per_user, "wait_ms": CLAIM_LOCK_WAIT_MS,
            "promote_before": promote_before, "claimer": claimer_id(),
        }).one()  # fmt: skip
        if row.outcome == "promote":
            return _Attempt(promote=True)
        if row.claimed_unfair:
            self.unfair_picks += 1
            self.on_unfair_pick()
            log.warning("fair-claim lock not had in %.0f s; picked without it",
                        CLAIM_LOCK_WAIT_MS / 1000)  # fmt: skip
        claim = None
        if row.outcome == "claimed":
            claim = Claim(row.claimed_id, token, row.claimed_attempts, row.claimed_key,
                          row.claimed_error, row.claimed_failures, row.claimed_interruptions,
                          row.claimed_interrupted_since, row.claimed_worker_losses)  # fmt: skip
        status = None if row.current_status is None else VideoStatus(row.current_status)
        return _Attempt(claim, status, row.current_lease, retry_at=row.current_retry)

    def _claim_here(self, conn: Connection, video_id: int, token: str, now: datetime) -> _Attempt:
        """The same claim as statements (SQLite, and FIFO anywhere). No lock on SQLite (one
        machine): a race there can cost one pick its fairness, never correctness — the
        compare-and-set still claims each job once."""
        current = read_current(conn, video_id, self.policy, now)
        if current is None:
            return _Attempt()
        abandoned = current.status == VideoStatus.processing and (
            current.lease_until is None or as_utc(current.lease_until) < now
        )
        claim = None
        if current.due:
            return _Attempt(promote=True)
        if not self.policy.fair or abandoned:
            claim = self._compare_and_set(conn, self._by_id, token, now, video_id)
        else:  # any live message picks: messages and claimable jobs stay in step
            claim = self._compare_and_set(conn, self._abandoned, token, now)  # a dead worker's
            for _ in range(0 if claim else 3):  # a head can be deleted between pick and update
                claim = self._compare_and_set(conn, self._fairest, token, now)
                if claim is not None or conn.execute(self._pick).first() is None:
                    break
        return _Attempt(claim, current.status, current.lease_until, retry_at=current.retry_at)

    def _compare_and_set(
        self, conn: Connection, statement: Update, token: str, now: datetime, video_id: int = 0
    ) -> Claim | None:
        # bind names that are no column of video (an unknown key would be SET as a column)
        values = {"video_id": video_id, "now": now, "token": token, "lease": now + self.lease,
                  "claimer": claimer_id()}  # fmt: skip
        row = conn.execute(statement, values).one_or_none()
        if row is None:
            return None
        return Claim(row.id, token, row.attempts, row.original_key, row.error, row.failures,
                     row.interruptions, row.interrupted_since, row.worker_losses)  # fmt: skip

    def _fenced(self, claim: Claim, **values: object) -> bool:
        deliveries: list[str] = []
        with self.sessions.begin() as session:
            row = session.execute(
                update(Video)
                .where(
                    Video.id == claim.video_id,
                    Video.claim_token == claim.token,
                    Video.status == VideoStatus.processing,
                )
                .values(**values)
                .returning(
                    Video.status,
                    Video.progress,
                    Video.error,
                    Video.owner_id,
                    Video.title,
                    Video.profile,
                    Video.outputs,
                )  # fmt: skip
            ).one_or_none()
            if row is None:
                return False
            if self.outbox is not None and row.status in TERMINAL:  # the outbox: same commit
                video = {"id": claim.video_id, "owner_id": row.owner_id, "title": row.title,
                         "status": row.status.value, "error": row.error,
                         "profile": row.profile, "outputs": row.outputs}  # fmt: skip
                deliveries = self.outbox.record(session, video)
        self.notify(event_now(claim.video_id, row.status, row.progress, row.error))
        if deliveries and self.outbox is not None:
            self.outbox.send(deliveries)
        return True

    def owner_stored_bytes(self, claim: Claim) -> int:
        """What the job's owner keeps in storage (originals and outputs), this job aside."""
        owner = select(Video.owner_id).where(Video.id == claim.video_id).scalar_subquery()
        originals = func.sum(Video.original_bytes).filter(Video.original_purged_at.is_(None))
        kept = func.coalesce(originals, 0) + func.coalesce(func.sum(Video.output_bytes), 0)
        with self.sessions() as session:
            total = session.scalar(
                select(kept).where(Video.owner_id == owner, Video.id != claim.video_id)
            )
        return int(total or 0)

    def profile_definition(self, claim: Claim) -> str | None:
        """The output profile the job was accepted with (JSON; None: the seed's reel)."""
        with self.sessions() as session:
            return session.scalar(
                select(Video.profile_definition).where(Video.id == claim.video_id)
            )

    def heartbeat(self, claim: Claim, progress: int) -> bool:
        """Store progress and extend the lease; False when the claim is gone (deleted/taken)."""
        return self._fenced(claim, progress=progress, lease_until=utcnow() + self.lease)

    def complete(
        self,
        claim: Claim,
        processed_key: str,
        thumbnail_key: str,
        duration: float,
        outputs: str | None = None,
        output_bytes: int = 0,
    ) -> bool:
        """Processed, with what it made (`outputs`: the manifest as JSON, worker/outputs.py;
        `output_bytes`: their size, counted in the owner's storage quota)."""
        return self._fenced(
            claim,
            status=VideoStatus.processed,
            progress=100,
            processed_key=processed_key,
            thumbnail_key=thumbnail_key,
            outputs=outputs,
            output_bytes=output_bytes,
            duration_seconds=duration,
            processed_at=utcnow(),
            error=None,
            claim_token=None,
            lease_until=None,
        )

    def fail(self, claim: Claim, reason: str) -> bool:
        return self._fenced(
            claim,
            status=VideoStatus.failed,
            error=reason[:1000],
            processed_at=utcnow(),
            claim_token=None,
            lease_until=None,
        )

    def release_for_retry(
        self, claim: Claim, reason: str, retry_at: datetime, interrupted: bool
    ) -> bool:
        """A failure worth retrying: `retrying` until `retry_at`, one more of the job's failures
        (its input) or of its interruptions (the service) — core/jobs/retries.py."""
        budget: dict[str, object] = (
            {"interruptions": claim.interruptions + 1,
             "interrupted_since": claim.interrupted_since or utcnow()}
            if interrupted else {"failures": claim.failures + 1}
        )  # fmt: skip
        return self._fenced(
            claim,
            status=VideoStatus.retrying,
            retry_at=retry_at,
            error=reason[:1000],
            claim_token=None,
            lease_until=None,
            **budget,
        )
