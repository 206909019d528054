"""tus 1.0.0 at /api/uploads, in process: the protocol's status codes and headers, ownership,
limits, sniffing, checksums, expiry, and exactly one job per upload."""

from __future__ import annotations

import base64
import hashlib
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, update

from core.db import Database
from core.models import Upload, Video, utcnow
from core.settings import Settings
from core.storage.local import LocalStorage
from tests.factories import MP4, signed_up
from tests.fast.conftest import queued_messages

pytestmark = pytest.mark.anyio
TUS = {"Tus-Resumable": "1.0.0"}
OCTETS = {**TUS, "Content-Type": "application/offset+octet-stream"}


def meta(**values: str) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in values.items())


async def create(client: httpx.AsyncClient, auth: dict[str, str], length: int = len(MP4),
                 **headers: str) -> httpx.Response:  # fmt: skip
    return await client.post("/api/uploads", headers={
        **auth, **TUS, "Upload-Length": str(length), "Upload-Metadata": meta(title="A reel"),
        **headers})  # fmt: skip


async def patch(client: httpx.AsyncClient, auth: dict[str, str], url: str, offset: int,
                body: bytes, **headers: str) -> httpx.Response:  # fmt: skip
    return await client.patch(url, headers={**auth, **OCTETS, "Upload-Offset": str(offset), **headers},
                              content=body)  # fmt: skip


async def offset_of(client: httpx.AsyncClient, auth: dict[str, str], url: str) -> int:
    head = await client.head(url, headers={**auth, **TUS})
    assert head.status_code == 200
    return int(head.headers["upload-offset"])


async def test_discovery_names_the_version_extensions_limit_and_checksums(
    client: httpx.AsyncClient,
) -> None:
    response = await client.options("/api/uploads")
    assert response.status_code == 204
    assert response.headers["tus-version"] == "1.0.0"
    assert set(response.headers["tus-extension"].split(",")) == {
        "creation", "creation-with-upload", "termination", "expiration", "checksum"}  # fmt: skip
    assert response.headers["tus-max-size"] == str(1024 * 1024)
    assert "sha1" in response.headers["tus-checksum-algorithm"].split(",")


async def test_upload_in_chunks_creates_exactly_one_job(
    client: httpx.AsyncClient, app_database: Database, settings: Settings, storage: LocalStorage
) -> None:
    auth = await signed_up(client)
    created = await create(client, auth)
    assert created.status_code == 201 and created.headers["tus-resumable"] == "1.0.0"
    url = created.headers["location"]
    assert url.startswith("/api/uploads/") and "upload-expires" in created.headers
    assert await offset_of(client, auth, url) == 0
    first = await patch(client, auth, url, 0, MP4[:1000])
    assert first.status_code == 204 and first.headers["upload-offset"] == "1000"
    assert "x-video-id" not in first.headers
    status = (await client.get(url, headers=auth)).json()
    assert status["offset"] == 1000 and status["complete"] is False and status["video_id"] is None
    last = await patch(client, auth, url, 1000, MP4[1000:])
    assert last.status_code == 204 and last.headers["upload-offset"] == str(len(MP4))
    video_id = int(last.headers["x-video-id"])
    status = (await client.get(url, headers=auth)).json()
    assert status == {"upload_id": url.rsplit("/", 1)[1], "offset": len(MP4), "length": len(MP4),
                      "complete": True, "video_id": video_id, "status_url": f"/api/videos/{video_id}",
                      "expires_at": status["expires_at"]}  # fmt: skip
    # The final PATCH retried (its answer was lost): the same job, no second one.
    again = await patch(client, auth, url, len(MP4), b"")
    assert again.status_code == 204 and again.headers["x-video-id"] == str(video_id)
    async with app_database.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Video)) == 1
        video = await session.get(Video, video_id)
    assert video is not None and video.title == "A reel" and video.original_bytes == len(MP4)
    assert storage.local_path(video.original_key).read_bytes() == MP4
    assert len(queued_messages(settings)) == 1
    detail = (await client.get(f"/api/videos/{video_id}", headers=auth)).json()
    assert detail["status"] == "queued"


async def test_creation_with_upload_sends_the_whole_file_in_the_post(
    client: httpx.AsyncClient,
) -> None:
    auth = await signed_up(client)
    created = await client.post("/api/uploads", content=MP4, headers={
        **auth, **OCTETS, "Upload-Length": str(len(MP4)), "Upload-Metadata": meta(title="One shot")})  # fmt: skip
    assert created.status_code == 201, created.text
    assert created.headers["upload-offset"] == str(len(MP4)) and "x-video-id" in created.headers


async def test_a_failed_creation_with_upload_still_says_where_to_resume(
    client: httpx.AsyncClient,
) -> None:
    auth = await signed_up(client)
    wrong = base64.b64encode(hashlib.sha1(b"not these bytes").digest()).decode()
    created = await client.post("/api/uploads", content=MP4[:100], headers={
        **auth, **OCTETS, "Upload-Length": str(len(MP4)), "Upload-Metadata": meta(title="x"),
        "Upload-Checksum": f"sha1 {wrong}"})  # fmt: skip
    assert created.status_code == 460 and created.headers["location"].startswith("/api/uploads/")
    assert created.headers["upload-offset"] == "0"  # resume from here, no HEAD needed
    assert await offset_of(client, auth, created.headers["location"]) == 0


async def test_protocol_errors(client: httpx.AsyncClient) -> None:
    auth = await signed_up(client)
    no_version = await client.post("/api/uploads", headers={**auth, "Upload-Length": "10"})
    assert no_version.status_code == 412 and no_version.headers["tus-version"] == "1.0.0"
    assert no_version.headers["tus-resumable"] == "1.0.0" and "detail" in no_version.json()
    wrong = await create(client, auth, **{"Tus-Resumable": "0.2.2"})  # type: ignore[arg-type]
    assert wrong.status_code == 412
    no_length = await client.post(
        "/api/uploads", headers={**auth, **TUS, "Upload-Metadata": meta(title="x")}
    )
    assert no_length.status_code == 400 and "Upload-Length" in no_length.json()["detail"]
    for metadata in ("", meta(title=""), meta(title="x" * 300), "title !!notbase64"):
        bad = await create(client, auth, **{"Upload-Metadata": metadata})  # type: ignore[arg-type]
        assert bad.status_code == 400 and bad.json()["detail"], metadata
    too_big = await create(client, auth, length=1024 * 1024 + 1)
    assert too_big.status_code == 413 and "limit" in too_big.json()["detail"]
    url = (await create(client, auth)).headers["location"]
    mismatch = await patch(client, auth, url, 5, MP4[:10])
    assert mismatch.status_code == 409 and mismatch.headers["tus-resumable"] == "1.0.0"
    wrong_type = await client.patch(url, headers={**auth, **TUS, "Upload-Offset": "0"}, content=MP4)
    assert wrong_type.status_code == 415
    past_end = await patch(client, auth, url, 0, MP4 + b"extra")
    assert past_end.status_code == 413 and await offset_of(client, auth, url) == 0
    unauthenticated = await client.head(url, headers=TUS)
    assert unauthenticated.status_code == 401


async def test_checksum_mismatch_discards_the_chunk(client: httpx.AsyncClient) -> None:
    auth = await signed_up(client)
    url = (await create(client, auth)).headers["location"]
    wrong = base64.b64encode(hashlib.sha1(b"something else").digest()).decode()
    mismatch = await patch(client, auth, url, 0, MP4[:500], **{"Upload-Checksum": f"sha1 {wrong}"})
    assert mismatch.status_code == 460 and await offset_of(client, auth, url) == 0
    assert mismatch.headers["upload-offset"] == "0"
    right = base64.b64encode(hashlib.sha1(MP4[:500]).digest()).decode()
    ok = await patch(client, auth, url, 0, MP4[:500], **{"Upload-Checksum": f"sha1 {right}"})
    assert ok.status_code == 204 and ok.headers["upload-offset"] == "500"
    unknown = await patch(client, auth, url, 500, MP4[500:600], **{"Upload-Checksum": "crc32 AAAA"})
    assert unknown.status_code == 400 and await offset_of(client, auth, url) == 500


async def test_another_users_upload_is_not_found(client: httpx.AsyncClient) -> None:
    owner, other = await signed_up(client), await signed_up(client, "eve@example.com")
    url = (await create(client, owner)).headers["location"]
    assert (await client.head(url, headers={**other, **TUS})).status_code == 404
    assert (await patch(client, other, url, 0, MP4)).status_code == 404
    assert (await client.delete(url, headers={**other, **TUS})).status_code == 404
    assert (await client.get(url, headers=other)).status_code == 404
    assert await offset_of(client, owner, url) == 0


@pytest.mark.parametrize("upload_id", ["..%2F..%2Fetc%2Fpasswd", "..", "ABCDEF", "0" * 31 + "g"])
async def test_an_upload_id_that_is_a_path_is_not_found(
    client: httpx.AsyncClient, upload_id: str
) -> None:
    auth = await signed_up(client)
    for method in ("HEAD", "DELETE", "GET"):
        response = await client.request(
            method, f"/api/uploads/{upload_id}", headers={**auth, **TUS}
        )
        assert response.status_code == 404, (method, response.status_code)
    assert (await patch(client, auth, f"/api/uploads/{upload_id}", 0, MP4)).status_code == 404


async def test_a_text_file_is_415_and_the_upload_terminated(
    client: httpx.AsyncClient, storage: LocalStorage
) -> None:
    auth = await signed_up(client)
    text = b"just some text, certainly not a video container " * 4
    url = (await create(client, auth, length=len(text) * 2)).headers["location"]
    response = await patch(client, auth, url, 0, text)
    assert response.status_code == 415 and "MP4" in response.json()["detail"]
    assert (await client.head(url, headers={**auth, **TUS})).status_code == 404
    assert not any((storage.root / "uploads").glob("*"))


async def test_termination_frees_the_upload(
    client: httpx.AsyncClient, storage: LocalStorage
) -> None:
    auth = await signed_up(client)
    url = (await create(client, auth)).headers["location"]
    assert (await patch(client, auth, url, 0, MP4[:100])).status_code == 204
    deleted = await client.delete(url, headers={**auth, **TUS})
    assert deleted.status_code == 204 and deleted.headers["tus-resumable"] == "1.0.0"
    assert (await client.head(url, headers={**auth, **TUS})).status_code == 404
    assert not any((storage.root / "uploads").glob("*"))


async def test_an_expired_upload_is_gone(client: httpx.AsyncClient, app_database: Database) -> None:
    auth = await signed_up(client)
    url = (await create(client, auth)).headers["location"]
    async with app_database.session_scope() as session:
        await session.execute(update(Upload).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert (await client.head(url, headers={**auth, **TUS})).status_code == 410
    assert (await patch(client, auth, url, 0, MP4)).status_code == 410


async def test_a_patch_in_progress_locks_the_upload(
    client: httpx.AsyncClient, app_database: Database
) -> None:
    auth = await signed_up(client)
    url = (await create(client, auth)).headers["location"]
    async with app_database.session_scope() as session:  # as if another process were writing
        await session.execute(update(Upload).values(lock_token="x" * 32,
                                                    lock_until=utcnow() + timedelta(seconds=30)))  # fmt: skip
    assert (await patch(client, auth, url, 0, MP4)).status_code == 423
    assert (await client.delete(url, headers={**auth, **TUS})).status_code == 423
    async with app_database.session_scope() as session:  # that process died: its lock lapses
        await session.execute(update(Upload).values(lock_until=utcnow() - timedelta(seconds=1)))
    assert (await patch(client, auth, url, 0, MP4)).status_code == 204


async def test_open_uploads_are_capped_per_user(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    auth = await signed_up(client)
    settings.uploads_open_max_per_user = 2
    assert (await create(client, auth)).status_code == 201
    assert (await create(client, auth)).status_code == 201
    third = await create(client, auth)
    assert third.status_code == 429 and "unfinished uploads" in third.json()["detail"]
    settings.uploads_open_max_per_user, settings.uploads_reserved_bytes_per_user = 0, len(MP4) * 3
    fourth = await create(client, auth, length=len(MP4) + 1)
    assert fourth.status_code == 507 and "reserve" in fourth.json()["detail"]


@pytest.fixture
def cors_settings(settings: Settings) -> Settings:
    settings.cors_allow_origins = ["https://app.example"]
    return settings


async def test_browser_clients_can_read_the_tus_headers_when_cors_is_on(
    cors_settings: Settings, app: FastAPI
) -> None:
    assert app.state.settings.cors_allow_origins == ["https://app.example"]
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        preflight = await client.options("/api/uploads", headers={
            "Origin": "https://app.example", "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,tus-resumable,upload-length,upload-metadata"})  # fmt: skip
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == "https://app.example"
        auth = await signed_up(client)
        created = await create(client, auth, **{"Origin": "https://app.example"})  # type: ignore[arg-type]
        exposed = {
            h.strip().lower() for h in created.headers["access-control-expose-headers"].split(",")
        }
        assert {
            "location",
            "upload-offset",
            "upload-length",
            "upload-expires",
            "tus-resumable",
        } <= exposed
        other = await client.options("/api/uploads", headers={
            "Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})  # fmt: skip
        assert "access-control-allow-origin" not in other.headers


async def test_direct_uploads_need_the_s3_backend(client: httpx.AsyncClient) -> None:
    auth = await signed_up(client)
    response = await client.post("/api/direct-uploads", headers=auth,
                                 json={"title": "x", "size": 10})  # fmt: skip
    assert response.status_code == 409 and "S3 storage backend" in response.json()["detail"]


async def test_a_job_refused_at_the_last_byte_ends_the_upload_cleanly(
    client: httpx.AsyncClient, settings: Settings, storage: LocalStorage
) -> None:
    auth = await signed_up(client)
    url = (await create(client, auth)).headers["location"]
    assert (await patch(client, auth, url, 0, MP4[:100])).status_code == 204
    settings.max_stored_bytes_per_user = 10  # the quota is used up while the upload was open
    last = await patch(client, auth, url, 100, MP4[100:])
    assert last.status_code == 507 and "quota" in last.json()["detail"]
    assert (await client.head(url, headers={**auth, **TUS})).status_code == 404
    assert not any(storage.root.rglob("original"))  # nothing half-kept
    assert not any((storage.root / "uploads").glob("*"))
