"""Routes in-process: the real app, its collaborators overridden (database on the test's
rolled-back transaction, local storage and the filesystem broker in tmp_path)."""

from __future__ import annotations

import errno
import json
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from app.collaborators import Collaborators
from app.main import create_app
from core.db import Database
from core.models import Video, VideoStatus
from core.settings import Settings
from core.storage import StorageError
from core.storage.local import LocalStorage
from tests.factories import MP4, signed_up, uploaded
from tests.fast.conftest import queued_messages

pytestmark = pytest.mark.anyio


async def test_upload_is_202_with_a_queued_row_a_stored_original_and_one_message(
    client: httpx.AsyncClient, app_database: Database, settings: Settings, storage: LocalStorage
) -> None:
    auth = await signed_up(client)
    response = await uploaded(client, auth)
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["status"] == "queued" and response.headers["location"] == body["status_url"]
    async with app_database.sessions() as session:
        video = await session.scalar(select(Video).where(Video.id == body["video_id"]))
    assert video is not None and video.status == VideoStatus.queued
    assert storage.local_path(video.original_key).read_bytes() == MP4
    messages = queued_messages(settings)
    assert len(messages) == 1 and body["task_id"] in messages[0]  # sent after the commit


async def test_a_text_file_is_415_and_nothing_is_stored_or_sent(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    response = await uploaded(client, await signed_up(client), b"hello, I am not a video" * 100)
    assert response.status_code == 415 and "detail" in response.json()
    assert not any(p.is_file() for p in settings.resolved_storage_dir.rglob("*"))
    assert queued_messages(settings) == []


async def test_storage_failure_is_503_with_retry_after_never_500(
    app: FastAPI,
    client: httpx.AsyncClient,
    settings: Settings,
    collaborators: Collaborators,
    tmp_path: Path,
) -> None:
    class BrokenStorage(LocalStorage):
        def open_writer(self, key: str):  # type: ignore[no-untyped-def]
            raise StorageError("disk on fire")

    broken = replace(collaborators, storage=BrokenStorage(tmp_path / "broken"))
    app.state.collaborators = broken
    response = await uploaded(client, await signed_up(client))
    assert response.status_code == 503 and response.headers["retry-after"] == "5"
    assert response.json() == {"detail": "Storage temporarily unavailable, retry shortly"}
    assert queued_messages(settings) == []


async def test_a_full_disk_says_storage_not_database(
    app: FastAPI, client: httpx.AsyncClient, collaborators: Collaborators, tmp_path: Path
) -> None:
    class FullDisk(LocalStorage):
        def open_writer(self, key: str):  # type: ignore[no-untyped-def]
            writer = super().open_writer(key)

            def no_space(data: bytes | bytearray) -> None:
                raise OSError(errno.ENOSPC, "No space left on device")

            writer._write = no_space  # type: ignore[method-assign]
            return writer

    app.state.collaborators = replace(collaborators, storage=FullDisk(tmp_path / "full"))
    response = await uploaded(client, await signed_up(client), MP4 + bytes(300 * 1024))
    assert response.status_code == 503
    assert response.json() == {"detail": "Storage temporarily unavailable, retry shortly"}


async def test_owner_only_and_delete_cancels_the_job(
    client: httpx.AsyncClient, app_database: Database, storage: LocalStorage
) -> None:
    owner, other = await signed_up(client), await signed_up(client, "eve@example.com")
    video_id = (await uploaded(client, owner)).json()["video_id"]
    assert (await client.get(f"/api/videos/{video_id}")).status_code == 401
    assert (await client.get(f"/api/videos/{video_id}", headers=other)).status_code == 403
    listed = await client.get("/api/videos", headers=owner)
    assert [v["video_id"] for v in listed.json()] == [video_id]
    assert listed.headers["x-total-count"] == "1"
    async with app_database.sessions() as session:
        original = (await session.get(Video, video_id)).original_key  # type: ignore[union-attr]
    deleted = await client.delete(f"/api/videos/{video_id}", headers=owner)
    assert deleted.json() == {"message": "Video eliminado exitosamente", "video_id": video_id}
    async with app_database.sessions() as session:
        assert await session.get(Video, video_id) is None
    assert not storage.exists_sync(original)  # removed once the delete committed
    assert (await client.get(f"/api/videos/{video_id}", headers=owner)).status_code == 404


async def test_publish_before_processed_is_409(client: httpx.AsyncClient) -> None:
    owner = await signed_up(client)
    video_id = (await uploaded(client, owner)).json()["video_id"]
    response = await client.post(f"/api/videos/{video_id}/publish", headers=owner)
    assert response.status_code == 409
    assert response.json() == {"detail": "Only processed videos can be published"}


async def test_health_ready_and_metrics(client: httpx.AsyncClient, settings: Settings) -> None:
    # No worker has run: the API made the broker's folders itself, so /ready is 200 at once.
    assert (await client.get("/health")).json() == {"status": "ok"}
    ready = await client.get("/ready")
    checks = ready.json()["checks"]
    assert {k: v["status"] for k, v in checks.items()} == {
        "database": "ok", "broker": "ok", "storage": "ok",  # FFmpeg: the worker's /ready
    }, json.dumps(checks)  # fmt: skip
    metrics = await client.get("/metrics")
    assert "reelforge_jobs_queued" in metrics.text


async def test_rate_limits_apply_per_route_and_health_is_exempt(
    settings: Settings, collaborators: Collaborators
) -> None:
    limited = settings.model_copy(update={"rate_limit_default": "2/minute"})
    app = create_app(limited)
    app.state.collaborators = collaborators
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        assert {(await client.get("/health")).status_code for _ in range(5)} == {200}
        codes = [(await client.get("/api/public/videos")).status_code for _ in range(3)]
        assert codes == [200, 200, 429]
        refused = await client.get("/api/public/videos")
        assert refused.headers["retry-after"] and refused.json()["detail"].startswith(
            "Too many requests"
        )
