"""Originals of processed videos are deleted once ORIGINAL_RETENTION_SECONDS have passed; the
row says so, and the download answers 404 with the reason."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import create_engine, select
from sqlalchemy.orm import sessionmaker

from core.jobs.retention import purge_expired_originals
from core.models import Base, User, Video, VideoStatus, utcnow
from core.storage.local import LocalStorage


def test_only_processed_originals_past_retention_are_deleted(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path}/r.db")
    Base.metadata.create_all(engine)
    sessions = sessionmaker(engine, expire_on_commit=False)
    storage = LocalStorage(tmp_path / "storage")
    now = utcnow()
    cases = {  # key: (status, processed this long ago)
        "old-processed": (VideoStatus.processed, timedelta(hours=3)),
        "new-processed": (VideoStatus.processed, timedelta(minutes=5)),
        "old-failed": (VideoStatus.failed, timedelta(hours=3)),
        "queued": (VideoStatus.queued, None),
    }
    with sessions.begin() as session:
        user = User(email="u@x.io", first_name="U", last_name="S", password_hash="h")
        session.add(user)
        session.flush()
        for name, (status, ago) in cases.items():
            key = f"originals/{name}/original"
            path = storage.local_path(key)
            path.parent.mkdir(parents=True)
            path.write_bytes(b"video")
            session.add(Video(owner_id=user.id, title=name, status=status, task_id=name,
                              original_key=key, original_content_type="video/mp4", original_bytes=5,
                              processed_at=now - ago if ago else None))  # fmt: skip
    assert purge_expired_originals(sessions, storage, retention_seconds=0) == 0  # off
    assert purge_expired_originals(sessions, storage, retention_seconds=3600) == 1
    assert purge_expired_originals(sessions, storage, retention_seconds=3600) == 0  # once
    assert not storage.exists_sync("originals/old-processed/original")
    assert not (tmp_path / "storage" / "originals" / "old-processed").exists()  # no empty dir
    for name in ("new-processed", "old-failed", "queued"):
        assert storage.exists_sync(f"originals/{name}/original")
    with sessions() as session:
        purged = session.scalars(select(Video.title).where(Video.original_purged_at.isnot(None)))
        assert list(purged) == ["old-processed"]
