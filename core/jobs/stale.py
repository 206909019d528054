"""The reconciler's side of the jobs table (JobStore inherits it): which jobs to send again —
lost messages, expired leases, overdue retries — and the claims of this host's dead processes."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from core.models import Tally, Video, VideoStatus, status_is, utcnow

STALE_BATCH = 100  # jobs re-sent per statement by the reconciler
HOST = socket.gethostname()


def claimer_id() -> str:
    """This process, as `claimed_by` names it: the claim runs in the pool child that works."""
    return f"{HOST}:{os.getpid()}"


class StaleJobs:
    sessions: sessionmaker[Session]
    lease: timedelta

    def expire_dead_claims(self, alive: Callable[[int], bool]) -> list[int]:
        """Jobs held by a worker process of this host that no longer exists (killed, OOM): their
        lease ends now, so the next claim takes them instead of waiting for it to run out. A
        scan of the running jobs only (ix_video_processing_lease); each end is a
        compare-and-set on the claimer, so a job claimed again meanwhile is left alone."""
        now, host = utcnow(), claimer_id().rsplit(":", 1)[0]
        with self.sessions.begin() as session:
            running = session.execute(
                select(Video.id, Video.claimed_by).where(
                    status_is(VideoStatus.processing),
                    Video.lease_until >= now,
                    Video.claimed_by.startswith(f"{host}:", autoescape=True),
                )
            ).all()
            dead = [r for r in running if not alive(int(r.claimed_by.rsplit(":", 1)[1]))]
            for row in dead:
                session.execute(
                    update(Video)
                    .where(Video.id == row.id, Video.claimed_by == row.claimed_by)
                    .where(status_is(VideoStatus.processing))
                    .values(lease_until=now - timedelta(milliseconds=1))
                )
        return [r.id for r in dead]

    def queued_count(self) -> int:
        """Queued jobs fleet-wide, from the tallies (core/counters.py): a few rows."""
        with self.sessions() as session:
            total = session.scalar(select(func.sum(Tally.value)).where(Tally.name == "queued"))
        return int(total or 0)

    def take_stale(
        self, resend_before: datetime, limit: int = STALE_BATCH, only_queued: bool = False
    ) -> list[tuple[int, str]]:
        """Mark for re-sending the queued jobs whose message was sent before `resend_before`
        and not claimed (enqueue failed, or the broker lost it), the processing jobs whose
        lease ran out (the worker died), and the retries due since `resend_before` (their
        delayed message was lost). SKIP LOCKED lets several reconcilers run at once."""
        now = utcnow()
        with self.sessions.begin() as session:
            lost = (  # ix_video_queued_enqueued_at: nothing to do costs one index probe
                select(Video.id)
                .where(status_is(VideoStatus.queued), Video.enqueued_at < resend_before)
                .order_by(Video.enqueued_at)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
            abandoned = (  # ix_video_processing_lease
                select(Video.id)
                .where(status_is(VideoStatus.processing), Video.lease_until < now)
                # not sent since its lease ran out — then at most once per lease period
                .where(
                    (Video.enqueued_at < Video.lease_until) | (Video.enqueued_at < now - self.lease)
                )
                .order_by(Video.lease_until)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
            overdue = (  # ix_video_retry_due: a retry whose message was lost
                select(Video.id)
                .where(status_is(VideoStatus.retrying), Video.retry_at < resend_before)
                .order_by(Video.retry_at)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
            picks = (lost,) if only_queued else (lost, abandoned, overdue)
            ids = [i for q in picks for i in session.scalars(q)]
            if not ids:
                return []
            rows = session.execute(
                update(Video)
                .where(Video.id.in_(ids))
                .values(enqueued_at=now)
                .returning(Video.id, Video.task_id)
            ).all()
        return [(r.id, r.task_id) for r in rows]
