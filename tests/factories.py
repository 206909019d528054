"""Builders every test uses: accounts and uploads through the API (the fast tier's in-process
client), and users and jobs written straight into a JobStore's database. One place, so a test
never imports another test module."""

from __future__ import annotations

import itertools
import uuid
from datetime import timedelta

import httpx

from core.jobs.scheduling import NORMAL
from core.jobs.store import JobStore
from core.models import User, Video, utcnow
from tests.api_client import multipart

# The smallest body the sniffer takes for an MP4 (its `ftyp` box), padded.
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 4096
PASSWORD = "correct-horse-9"
_order = itertools.count()


async def signed_up(client: httpx.AsyncClient, email: str = "ada@example.com") -> dict[str, str]:
    """Sign up and log in through the API; the Authorization header."""
    body = {"first_name": "Ada", "last_name": "L", "email": email, "password1": PASSWORD,
            "password2": PASSWORD, "city": "Bogota"}  # fmt: skip
    assert (await client.post("/api/auth/signup", json=body)).status_code == 201
    login = await client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


async def uploaded(
    client: httpx.AsyncClient, auth: dict[str, str], data: bytes = MP4
) -> httpx.Response:
    """One multipart upload through the API (title "My reel")."""
    body = multipart([("title", b"My reel", None), ("video_file", data, "clip.mp4")])
    content_type = "multipart/form-data; boundary=rfboundary"
    return await client.post(
        "/api/videos/upload", headers={**auth, "content-type": content_type}, content=body
    )


def user_row(jobs: JobStore) -> int:
    """A user written straight into the store's database; its id."""
    with jobs.sessions.begin() as session:
        user = User(
            email=f"{uuid.uuid4().hex}@x.io", first_name="a", last_name="b", password_hash="h"
        )
        session.add(user)
        session.flush()
        return user.id


def queued_jobs(
    jobs: JobStore, owner: int, count: int, lane: int = NORMAL, age: float = 0
) -> list[int]:
    """`count` queued jobs of `owner` in `lane`, uploaded `age` seconds ago, in order; ids."""
    ids = []
    with jobs.sessions.begin() as session:
        for _ in range(count):
            uploaded_at = utcnow() - timedelta(seconds=age) + timedelta(microseconds=next(_order))
            video = Video(owner_id=owner, title="t", task_id=str(uuid.uuid4()), original_key="k",
                          original_content_type="video/mp4", original_bytes=1, priority=lane,
                          uploaded_at=uploaded_at)  # fmt: skip
            session.add(video)
            session.flush()
            ids.append(video.id)
    return ids
