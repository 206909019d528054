"""Resumable uploads past UPLOAD_EXPIRES_SECONDS: unfinished ones lose their bytes (the S3
multipart upload aborted, tail objects and local files deleted) and their rows; finished ones
just their rows (the video lives on). Run by the reconciler thread, rows taken with SKIP LOCKED
so several workers can run it. The bytes go first, inside the rows' transaction: a clean-up
that fails keeps its row (and so its retry) instead of leaking bytes no row points to."""

from __future__ import annotations

import logging

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from core.models import Upload, utcnow
from core.storage import Storage, StorageError
from core.storage.resumable import Progress, ResumableStore, resumable_store

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
        gone = [u for u in uploads if u.video_id is not None or _discard(store, u)]
        if gone:
            session.execute(delete(Upload).where(Upload.id.in_([u.id for u in gone])))
    if gone:
        unfinished = sum(u.video_id is None for u in gone)
        log.info("uploads: %d expired (%d unfinished, bytes freed)", len(gone), unfinished)
    return len(gone)


def _discard(store: ResumableStore, upload: Upload) -> bool:
    """Free an unfinished upload's bytes before its row is deleted, so bytes never outlive the
    row that finds them. False when storage fails: the row stays for the next sweep."""
    progress = Progress.from_row(
        upload.backend_upload_id, upload.parts, upload.tail_key, upload.tail_bytes
    )
    try:
        store.discard_sync(upload.id, upload.key, progress)
    except StorageError as exc:
        log.warning("upload %s: its bytes could not be freed, kept for the next sweep: %s",
                    upload.id, exc)  # fmt: skip
        return False
    return True
