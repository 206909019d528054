"""Resumable uploads past UPLOAD_EXPIRES_SECONDS: unfinished ones lose their bytes (the S3
multipart upload aborted, tail objects and local files deleted) and their rows; finished ones
just their rows (the video lives on). Run by the reconciler thread, rows taken with SKIP LOCKED
so several workers can run it."""

from __future__ import annotations

import logging

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from core.models import Upload, utcnow
from core.storage import Storage
from core.storage.resumable import Progress, resumable_store

log = logging.getLogger(__name__)


def sweep_expired_uploads(
    sessions: sessionmaker[Session], storage: Storage, part_bytes: int, limit: int = 100
) -> int:
    store = resumable_store(storage, part_bytes)
    expired = (
        select(Upload)
        .where(Upload.expires_at < utcnow())
        .order_by(Upload.expires_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    with sessions.begin() as session:
        uploads = list(session.scalars(expired))
        leftovers = [
            (u.id, u.key, Progress.from_row(u.backend_upload_id, u.parts, u.tail_key, u.tail_bytes))
            for u in uploads
            if u.video_id is None
        ]
        if uploads:
            session.execute(delete(Upload).where(Upload.id.in_([u.id for u in uploads])))
    for upload_id, key, progress in leftovers:
        store.discard_sync(upload_id, key, progress)
    if uploads:
        log.info("uploads: %d expired (%d unfinished, bytes freed)", len(uploads), len(leftovers))
    return len(uploads)
