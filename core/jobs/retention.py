"""The retention policy for originals: once a video is processed, its original is deleted after
ORIGINAL_RETENTION_SECONDS (0 keeps originals forever). Run by the reconciler thread; rows are
marked in one transaction (SKIP LOCKED: several workers may run it), files deleted after it."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from core.models import Video, VideoStatus, utcnow
from core.storage import Storage

log = logging.getLogger(__name__)


def purge_expired_originals(
    sessions: sessionmaker[Session], storage: Storage, retention_seconds: int, limit: int = 100
) -> int:
    if retention_seconds <= 0:
        return 0
    now = utcnow()
    expired = (
        select(Video.id)
        .where(
            Video.status == VideoStatus.processed,
            Video.processed_at < now - timedelta(seconds=retention_seconds),
            Video.original_purged_at.is_(None),
        )
        .order_by(Video.processed_at)  # ix_video_retention: nothing due is one index probe
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    with sessions.begin() as session:
        ids = list(session.scalars(expired))
        if not ids:
            return 0
        keys = (
            session.execute(
                update(Video)
                .where(Video.id.in_(ids))
                .values(original_purged_at=now)
                .returning(Video.original_key)
            )
            .scalars()
            .all()
        )
    for key in keys:
        storage.delete_sync(key)
    log.info("retention: deleted %d original(s)", len(keys))
    return len(keys)
