"""The rule, in-process: no input produces a 500; every error is JSON `{"detail": ...}` and never
echoes raw input. Each case below once produced a 500, a misleading 503, or a leak."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import httpx
import jwt
import pytest
from fastapi import FastAPI

from app.collaborators import Collaborators
from app.main import create_app
from core.db import Database
from core.models import User, Video, VideoStatus
from core.settings import Settings
from core.storage.local import LocalStorage
from tests.factories import MP4, PASSWORD, signed_up, uploaded

pytestmark = pytest.mark.anyio


async def _mark_processed(database: Database, video_id: int, published: bool = False) -> None:
    """As if a worker had finished the job (and, optionally, the owner had published it)."""
    async with database.sessions() as session:
        video = await session.get(Video, video_id)
        assert video is not None
        video.status, video.published = VideoStatus.processed, published
        await session.commit()


async def test_over_long_passwords_are_4xx_never_500(client: httpx.AsyncClient) -> None:
    await signed_up(client)
    login = await client.post(
        "/api/auth/login", json={"email": "ada@example.com", "password": "p" * 100}
    )
    assert login.status_code == 401 and login.json() == {"detail": "Invalid email or password"}
    two_byte = "é" * 40  # 40 characters, 80 bytes: more than bcrypt reads
    body = {"first_name": "A", "last_name": "B", "email": "b@example.com",
            "password1": two_byte, "password2": two_byte}  # fmt: skip
    signup = await client.post("/api/auth/signup", json=body)
    assert signup.status_code == 400 and "72 bytes" in signup.json()["detail"]


@pytest.mark.parametrize(
    "path",
    ["/api/videos/99999999999999999999999", "/api/videos/2147483648", "/api/videos/0",
     "/api/videos/1/file?variant=processed&x=1".replace("1/", "18446744073709551616/")],
)  # fmt: skip
async def test_ids_beyond_the_integer_range_are_422(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path, headers=await signed_up(client))
    assert response.status_code == 422 and "detail" in response.json()


@pytest.mark.parametrize(
    "query", ["offset=100000000000000000000", "page=1000000000", "limit=0", "offset=-1"]
)
async def test_pages_beyond_range_are_400(client: httpx.AsyncClient, query: str) -> None:
    response = await client.get(f"/api/public/rankings?{query}")
    assert response.status_code == 400 and "detail" in response.json()


async def test_nul_bytes_in_text_are_refused(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/public/rankings?city=Bo%00gota")).status_code == 422
    body = {"first_name": "A\x00", "last_name": "B", "email": "n@example.com",
            "password1": PASSWORD, "password2": PASSWORD}  # fmt: skip
    assert (await client.post("/api/auth/signup", json=body)).status_code == 422
    login = await client.post("/api/auth/login", json={"email": "a\x00@x.io", "password": "x"})
    assert login.status_code == 422


async def test_a_body_the_validator_cannot_echo_is_422_without_the_input(
    client: httpx.AsyncClient,
) -> None:
    raw = b'{"email": "\xff\xfe", "password": ' + b"9" * 5000 + b"}"
    response = await client.post(
        "/api/auth/login", content=raw, headers={"content-type": "application/json"}
    )
    assert response.status_code in (400, 422) and "detail" in response.json()
    assert "9999" not in response.text and "input" not in response.text


async def test_hostile_multipart_bodies_are_4xx(client: httpx.AsyncClient) -> None:
    auth = await signed_up(client)
    boundary = "b" * 300
    long_boundary = await client.post(
        "/api/videos/upload",
        headers={**auth, "content-type": f"multipart/form-data; boundary={boundary}"},
        content=f"--{boundary}\r\n".encode(),
    )
    assert long_boundary.status_code == 400 and "boundary" in long_boundary.json()["detail"]
    unclosed = (
        b'--x\r\nContent-Disposition: form-data; name="title"\r\n\r\nt\r\n'
        b'--x\r\nContent-Disposition: form-data; name="video_file"; filename="a.mp4"\r\n\r\n' + MP4
    )
    response = await client.post(
        "/api/videos/upload",
        headers={**auth, "content-type": "multipart/form-data; boundary=x"},
        content=unclosed,
    )
    assert response.status_code == 400 and "closing boundary" in response.json()["detail"]
    junk = (
        b'--x\r\nContent-Disposition: form-data; name="junk"\r\n\r\n' + b"j" * (2 * 1024 * 1024)
        + b'\r\n--x\r\nContent-Disposition: form-data; name="title"\r\n\r\nt\r\n'
        b'--x\r\nContent-Disposition: form-data; name="video_file"; filename="a.mp4"\r\n\r\n'
        + MP4 + b"\r\n--x--\r\n"
    )  # fmt: skip
    response = await client.post(
        "/api/videos/upload",
        headers={**auth, "content-type": "multipart/form-data; boundary=x"},
        content=junk,
    )
    assert response.status_code == 413  # every byte counts, not only the file's


async def test_the_unexpected_is_a_json_500_with_the_request_id(
    app: FastAPI, collaborators: Collaborators, tmp_path: Path
) -> None:
    class BrokenStorage(LocalStorage):
        def open_writer(self, key: str):  # type: ignore[no-untyped-def]
            raise RuntimeError("secret internals")

    broken = replace(collaborators, storage=BrokenStorage(tmp_path / "broken"))
    app.state.collaborators = broken
    # As a server would: the app's exception reaches the client as its response, not raised.
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await uploaded(client, await signed_up(client))
    assert response.status_code == 500
    body = response.json()
    assert body["detail"].startswith("Internal server error") and body["request_id"]
    assert response.headers["x-request-id"] == body["request_id"]
    assert "secret internals" not in response.text


async def test_no_slash_redirects_nosniff_and_docs_off(
    client: httpx.AsyncClient, settings: Settings, app_database: Database
) -> None:
    auth = await signed_up(client)
    slashed = await client.get("/api/videos/", headers={**auth, "host": "evil.example"})
    assert slashed.status_code == 200 and slashed.headers["x-content-type-options"] == "nosniff"
    closed = create_app(settings.model_copy(update={"api_docs_enabled": False}))
    transport = httpx.ASGITransport(app=closed)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as other:
        for path in ("/docs", "/redoc", "/openapi.json"):
            assert (await other.get(path)).status_code == 404


async def test_a_token_issued_before_its_account_existed_is_refused(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    await signed_up(client)  # user 1
    now = int(time.time())
    old = {"sub": "1", "iat": now - 3600, "exp": now + 3600}
    forged = jwt.encode(old, settings.jwt_secret, algorithm="HS256")
    response = await client.get("/api/videos", headers={"Authorization": f"Bearer {forged}"})
    assert response.status_code == 401


async def test_idempotency_key_of_a_deleted_video_makes_a_new_upload(
    client: httpx.AsyncClient,
) -> None:
    auth = await signed_up(client)
    key = {"Idempotency-Key": "k-1"}
    first = (await uploaded(client, {**auth, **key})).json()
    assert (
        await client.delete(f"/api/videos/{first['video_id']}", headers=auth)
    ).status_code == 200
    again = await uploaded(client, {**auth, **key})
    assert again.status_code == 202 and again.json()["video_id"] != first["video_id"]
    assert (await client.get(again.headers["location"], headers=auth)).status_code == 200


async def test_owners_cannot_vote_for_their_own_videos(
    client: httpx.AsyncClient, app_database: Database
) -> None:
    auth = await signed_up(client)
    video_id = (await uploaded(client, auth)).json()["video_id"]
    await _mark_processed(app_database, video_id, published=True)
    own = await client.post(f"/api/public/videos/{video_id}/vote", headers=auth)
    assert own.status_code == 400
    assert own.json() == {"detail": "You cannot vote for your own video"}
    voter = await signed_up(client, "eve@example.com")
    assert (
        await client.post(f"/api/public/videos/{video_id}/vote", headers=voter)
    ).status_code == 200


async def test_files_answer_404_to_strangers_so_ids_are_not_enumerable(
    client: httpx.AsyncClient,
) -> None:
    owner, stranger = await signed_up(client), await signed_up(client, "eve@example.com")
    video_id = (await uploaded(client, owner)).json()["video_id"]
    for headers in (stranger, {}):
        mine = await client.get(f"/api/videos/{video_id}/file?variant=original", headers=headers)
        none = await client.get("/api/videos/999/file?variant=original", headers=headers)
        assert mine.status_code == none.status_code == 404
        assert mine.json() == none.json()


async def test_users_and_videos_never_get_a_deleted_id_back(app_database: Database) -> None:
    async with app_database.sessions() as session:
        first = User(email="a@x.io", first_name="A", last_name="B", password_hash="h")
        session.add(first)
        await session.commit()
        old_id = first.id
        await session.delete(first)
        await session.commit()
        second = User(email="b@x.io", first_name="A", last_name="B", password_hash="h")
        session.add(second)
        await session.commit()
        assert second.id > old_id


async def test_publish_racing_a_delete_is_404_not_a_stale_data_500(
    client: httpx.AsyncClient, app_database: Database
) -> None:
    from sqlalchemy import delete

    from app.errors import NotFound
    from app.videos import service

    auth = await signed_up(client)
    video_id = (await uploaded(client, auth)).json()["video_id"]
    await _mark_processed(app_database, video_id)
    async with app_database.sessions() as session:
        video = await session.get(Video, video_id)
        assert video is not None
        owner = await session.get(User, video.owner_id)
        assert owner is not None
        await service.get_owned_video(session, owner, video_id)  # loaded: the race window opens
        async with app_database.sessions() as other:  # a concurrent delete commits
            await other.execute(delete(Video).where(Video.id == video_id))
            await other.commit()
        with pytest.raises(NotFound):
            await service.publish_video(session, owner, video_id)
