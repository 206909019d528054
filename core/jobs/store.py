"""The worker side of a job's life: claim, lease, fenced writes, and the re-send pick.

Every write after the claim is fenced by the claim token, so a worker that lost its claim (job
deleted, lease taken over) can never overwrite anything."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    DateTime,
    Update,
    bindparam,
    func,
    select,
    update,
)
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from core.jobs.events import EventSink, event_now, no_sink
from core.jobs.scheduling import (
    SchedulingPolicy,
    claimable,
    due_exists,
    due_for_promotion,
    fairest,
    promote,
)
from core.models import Video, VideoStatus, as_utc, utcnow
from core.webhooks.outbox import Outbox

TERMINAL = (VideoStatus.processed, VideoStatus.failed)
CLAIM_LOCK_KEY = 0x7265656C  # "reel": the advisory lock fair claims take (core/jobs/scheduling.py)
CLAIM_LOCK_WAIT_SECONDS = 2.0
log = logging.getLogger(__name__)


_LOCK = select(
    func.set_config("lock_timeout", f"{int(CLAIM_LOCK_WAIT_SECONDS * 1000)}ms", True),
    func.pg_advisory_xact_lock(CLAIM_LOCK_KEY),
    func.set_config("lock_timeout", "0", True),
)


class ClaimLockTimeout(Exception):
    """The fair-claim lock was not had within CLAIM_LOCK_WAIT_SECONDS."""


def _read_current(
    conn: Connection, video_id: int, policy: SchedulingPolicy, locked: bool, now: datetime
) -> Any:
    """The message's own job (status, lease); for fair picks whether any job is due for lane
    promotion; and — when `locked` — the claim lock: one statement. The lock waits in
    Postgres's own queue (no polling), bounded by lock_timeout, set for the lock alone and
    reset in the same statement: a holder frozen mid-claim raises ClaimLockTimeout after
    CLAIM_LOCK_WAIT_SECONDS and that one pick goes ahead without it (JobStore.unfair_picks).
    Not on SQLite (one machine, the embedded default): a race there can cost one pick its
    fairness, never correctness — the compare-and-set still claims each job once."""
    extra: list[Any] = [due_exists()] if policy.fair else []
    if locked:
        extra.extend(_LOCK.selected_columns)
    statement = select(Video.status, Video.lease_until, *extra).where(
        Video.id == bindparam("video_id")
    )
    promoted = now - timedelta(seconds=policy.lane_promote_seconds)
    try:
        row = conn.execute(statement, {"video_id": video_id, "promoted": promoted}).one_or_none()
    except OperationalError as exc:
        if getattr(exc.orig, "sqlstate", None) == "55P03":  # lock_not_available
            raise ClaimLockTimeout from exc
        raise
    return row


def _claim_statement(which: ColumnElement[bool]) -> Update:
    """queued (or processing under an expired lease) → processing: the compare-and-set."""
    now = bindparam("now", type_=DateTime(timezone=True))
    return (
        update(Video)
        .where(which, claimable(now))
        .values(
            status=VideoStatus.processing,
            attempts=Video.attempts + 1,
            claim_token=bindparam("token"),
            lease_until=bindparam("lease", type_=DateTime(timezone=True)),
            started_at=now,
            progress=0,
        )
        .returning(Video.id, Video.attempts, Video.original_key, Video.error)
    )


@dataclass(frozen=True)
class Claim:
    video_id: int
    token: str
    attempt: int
    original_key: str
    previous_error: str | None


@dataclass(frozen=True)
class ClaimRefused:
    reason: str  # "missing", "finished", "held" or "capped"
    lease_until: datetime | None = None


class JobStore:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        lease_seconds: int,
        policy: SchedulingPolicy | None = None,
        notify: EventSink = no_sink,
        outbox: Outbox | None = None,
    ) -> None:
        self.sessions = sessions
        self.lease = timedelta(seconds=lease_seconds)
        self.policy = policy or SchedulingPolicy(fair=False)
        self.notify = notify  # told of every committed change (core/jobs/events.py)
        self.outbox = outbox  # webhook deliveries, written with a terminal state
        self.unfair_picks = 0  # fair picks made without the lock (a frozen holder); a metric
        self._pick = fairest(self.policy)
        self._fairest = _claim_statement(Video.id == self._pick.scalar_subquery())
        self._by_id = _claim_statement(Video.id == bindparam("video_id"))

    def claim(self, video_id: int, token: str) -> Claim | ClaimRefused:
        """Claim the job this message stands for — with a fair policy, the fairest claimable
        job instead (core/jobs/scheduling.py). Each claim is one compare-and-set:
        queued (or processing with an expired lease) → processing."""
        try:
            return self._claim(video_id, token, serialise=True)
        except ClaimLockTimeout:
            self.unfair_picks += 1
            log.warning("fair-claim lock not had in %.0f s; picking without it",
                        CLAIM_LOCK_WAIT_SECONDS)  # fmt: skip
            return self._claim(video_id, token, serialise=False)

    def _claim(self, video_id: int, token: str, serialise: bool) -> Claim | ClaimRefused:
        # Statements built once (in __init__ and at import) and run on the session's
        # Connection: the claim is the fleet's one serialised step, so its client cost counts.
        now = utcnow()
        promoting: list[int] = []
        fair = self.policy.fair
        with self.sessions.begin() as session:
            conn = session.connection()
            # Fair on Postgres: the claim lock is taken in this same first statement (one round
            # trip fewer inside the serialised section); the pick below is a later statement,
            # so its snapshot sees every claim committed before the lock was had.
            locked = fair and serialise and conn.dialect.name == "postgresql"
            current = _read_current(conn, video_id, self.policy, locked, now)
            if current is None:
                return ClaimRefused("missing")  # deleted: its place in line went with it
            abandoned = current.status == VideoStatus.processing and (
                current.lease_until is None or as_utc(current.lease_until) < now
            )
            claim = None
            if not fair or abandoned:
                claim = self._compare_and_set(conn, self._by_id, token, now, video_id)
            elif current[2]:  # due_exists
                promoting = due_for_promotion(conn, self.policy, now)
            else:  # any live message picks: messages and claimable jobs stay in step
                claim = self._pick_fairest(conn, token)
        if promoting:  # in a transaction of its own, then the pick again
            with self.sessions.begin() as session:
                promote(session.connection(), promoting)
            return self._claim(video_id, token, serialise)
        if claim is not None:  # committed: tell the live streams
            self.notify(event_now(claim.video_id, VideoStatus.processing, 0, claim.previous_error))
            return claim
        if current.status == VideoStatus.processing:
            return ClaimRefused("held", current.lease_until)
        if current.status == VideoStatus.queued:  # its owner is at the cap, or a race was lost
            return ClaimRefused("capped")
        return ClaimRefused("finished")

    def _pick_fairest(self, conn: Connection, token: str) -> Claim | None:
        now = utcnow()  # the lock may have been waited for: lease and start from now
        for _ in range(3):  # a head can be deleted between the pick and the update
            claim = self._compare_and_set(conn, self._fairest, token, now)
            if claim is not None or conn.execute(self._pick).first() is None:
                return claim
        return None

    def _compare_and_set(
        self, conn: Connection, statement: Update, token: str, now: datetime, video_id: int = 0
    ) -> Claim | None:
        # bind names that are no column of video (an unknown key would be SET as a column)
        values = {"video_id": video_id, "now": now, "token": token, "lease": now + self.lease}
        row = conn.execute(statement, values).one_or_none()
        if row is None:
            return None
        return Claim(row.id, token, row.attempts, row.original_key, row.error)

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
                .returning(Video.status, Video.progress, Video.error, Video.owner_id, Video.title)
            ).one_or_none()
            if row is None:
                return False
            if self.outbox is not None and row.status in TERMINAL:  # the outbox: same commit
                video = {"id": claim.video_id, "owner_id": row.owner_id, "title": row.title,
                         "status": row.status.value, "error": row.error}  # fmt: skip
                deliveries = self.outbox.record(session, video)
        self.notify(event_now(claim.video_id, row.status, row.progress, row.error))
        if deliveries and self.outbox is not None:
            self.outbox.send(deliveries)
        return True

    def heartbeat(self, claim: Claim, progress: int) -> bool:
        """Store progress and extend the lease; False when the claim is gone (deleted/taken)."""
        return self._fenced(claim, progress=progress, lease_until=utcnow() + self.lease)

    def complete(
        self, claim: Claim, processed_key: str, thumbnail_key: str, duration: float
    ) -> bool:
        return self._fenced(
            claim,
            status=VideoStatus.processed,
            progress=100,
            processed_key=processed_key,
            thumbnail_key=thumbnail_key,
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

    def release_for_retry(self, claim: Claim, reason: str) -> bool:
        """A transient failure: back to queued (the retry message claims it again)."""
        return self._fenced(
            claim,
            status=VideoStatus.queued,
            error=reason[:1000],
            claim_token=None,
            lease_until=None,
        )

    def take_stale(self, resend_before: datetime, limit: int = 100) -> list[tuple[int, str]]:
        """Mark for re-sending the queued jobs whose message was sent before `resend_before`
        and not claimed (enqueue failed, or the broker lost it), and the processing jobs whose
        lease ran out (the worker died). SKIP LOCKED lets several reconcilers run at once."""
        now = utcnow()
        with self.sessions.begin() as session:
            lost = (  # ix_video_queued_enqueued_at: nothing to do costs one index probe
                select(Video.id)
                .where(Video.status == VideoStatus.queued, Video.enqueued_at < resend_before)
                .order_by(Video.enqueued_at)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
            abandoned = (  # ix_video_processing_lease
                select(Video.id)
                .where(Video.status == VideoStatus.processing, Video.lease_until < now)
                .where(Video.enqueued_at < now - self.lease)  # one re-send per lease period
                .order_by(Video.lease_until)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
            ids = list(session.scalars(lost)) + list(session.scalars(abandoned))
            if not ids:
                return []
            rows = session.execute(
                update(Video)
                .where(Video.id.in_(ids))
                .values(enqueued_at=now)
                .returning(Video.id, Video.task_id)
            ).all()
        return [(r.id, r.task_id) for r in rows]
