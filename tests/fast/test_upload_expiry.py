"""The expired-upload sweep frees an unfinished upload's bytes before its row goes: when storage
fails, the row stays (so the next sweep retries) instead of bytes being left that no row points
to; finished uploads lose only their row."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import create_engine, select
from sqlalchemy.orm import sessionmaker

from core.jobs.upload_expiry import sweep_expired_uploads
from core.models import Base, Upload, User, utcnow
from core.storage.local import LocalStorage


def test_a_failed_clean_up_keeps_its_row_for_the_next_sweep(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path}/u.db")
    Base.metadata.create_all(engine)
    sessions = sessionmaker(engine, expire_on_commit=False)
    storage = LocalStorage(tmp_path / "storage")
    partial = tmp_path / "storage" / "uploads"
    partial.mkdir(parents=True)
    (partial / "a").write_bytes(b"partial bytes")  # frees normally
    (partial / "stuck" / "inside").mkdir(parents=True)  # a directory: the delete fails
    past, future = utcnow() - timedelta(seconds=1), utcnow() + timedelta(hours=1)
    with sessions.begin() as session:
        user = User(email="u@x.io", first_name="U", last_name="S", password_hash="h")
        session.add(user)
        session.flush()
        for upload_id, expires, video_id in (("a", past, None), ("stuck", past, None),
                                             ("done", past, 7), ("fresh", future, None)):  # fmt: skip
            session.add(Upload(id=upload_id, owner_id=user.id, title=upload_id, length=10,
                               key=f"originals/{upload_id}/original", expires_at=expires,
                               video_id=video_id))  # fmt: skip

    def rows() -> set[str]:
        with sessions() as session:
            return set(session.scalars(select(Upload.id)))

    assert sweep_expired_uploads(sessions, storage, part_bytes=5 * 2**20) == 2  # a, done
    assert rows() == {"stuck", "fresh"}
    assert not (partial / "a").exists()
    (partial / "stuck" / "inside").rmdir()
    (partial / "stuck").rmdir()
    (partial / "stuck").write_bytes(b"partial bytes")  # storage works again
    assert sweep_expired_uploads(sessions, storage, part_bytes=5 * 2**20) == 1
    assert rows() == {"fresh"}
    assert not (partial / "stuck").exists()
