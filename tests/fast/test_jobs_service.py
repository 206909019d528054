"""core.jobs on a real database session, rolled back after each test: creating, enqueueing
(only after a commit), cancelling, and the backlog read."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import Database
from core.jobs import lifecycle
from core.jobs.backlog import read_backlog
from core.jobs.dispatch import JobPublisher
from core.models import User, Video, VideoStatus
from core.settings import Settings
from core.storage.local import LocalStorage
from tests.fast.conftest import queued_messages

pytestmark = pytest.mark.anyio
ORIGINAL = lifecycle.StoredOriginal("originals/x/original", "video/mp4", 10)


async def _user(session: AsyncSession) -> User:
    user = User(email="u@example.com", first_name="U", last_name="S", password_hash="x")
    session.add(user)
    await session.flush()
    return user


async def test_a_new_job_is_queued_and_sent_once_the_transaction_commits(
    database: Database, publisher: JobPublisher, settings: Settings
) -> None:
    async with database.session_scope() as session:
        video = await lifecycle.add_job(session, (await _user(session)).id, "t", ORIGINAL)
        lifecycle.enqueue_job(session, publisher, video)
        assert video.status == VideoStatus.queued and video.attempts == 0
        assert queued_messages(settings) == []  # not before the commit
    messages = queued_messages(settings)
    assert len(messages) == 1 and video.task_id in messages[0]


async def test_nothing_is_sent_when_the_transaction_rolls_back(
    database: Database, publisher: JobPublisher, settings: Settings
) -> None:
    with pytest.raises(RuntimeError):
        async with database.session_scope() as session:
            video = await lifecycle.add_job(session, (await _user(session)).id, "t", ORIGINAL)
            lifecycle.enqueue_job(session, publisher, video)
            raise RuntimeError("the handler failed after creating the job")
    assert queued_messages(settings) == []


async def test_cancel_deletes_an_unpublished_job_and_its_files_after_commit(
    database: Database, storage: LocalStorage
) -> None:
    writer = storage.open_writer(ORIGINAL.key)
    await writer.write(b"bytes")
    await writer.commit()
    async with database.session_scope() as session:
        video = await lifecycle.add_job(session, (await _user(session)).id, "t", ORIGINAL)
        assert await lifecycle.cancel_job(session, storage, video.id)
        assert storage.exists_sync(ORIGINAL.key)  # still there until the delete commits
    assert not storage.exists_sync(ORIGINAL.key)


async def test_cancel_refuses_a_published_video(
    session: AsyncSession, storage: LocalStorage
) -> None:
    video = await lifecycle.add_job(session, (await _user(session)).id, "t", ORIGINAL)
    video.published = True
    await session.flush()
    assert not await lifecycle.cancel_job(session, storage, video.id)
    assert await session.get(Video, video.id) is not None


async def test_backlog_counts_queued_and_processing(database: Database) -> None:
    async with database.session_scope() as session:
        owner = await _user(session)
        for _ in range(3):
            await lifecycle.add_job(session, owner.id, "t", ORIGINAL)
        (await lifecycle.add_job(session, owner.id, "t", ORIGINAL)).status = VideoStatus.processing
    async with database.sessions() as session:
        backlog = await read_backlog(await session.connection())
    assert (backlog.queued, backlog.processing) == (3, 1)
    assert backlog.oldest_queued_age >= 0
