"""Limits that keep one client from taking everybody's share: failed logins per account, auth
limits per IP (a token buys no extra guesses), upload slots, upload pacing, per-user quotas."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace

import httpx
import pytest
from fastapi import FastAPI

from app.auth.throttle import LoginThrottle
from app.collaborators import Collaborators
from app.errors import RequestTimeout, ServiceUnavailable, TooManyRequests
from app.videos.pacing import receive_paced
from app.videos.slots import UploadSlots
from core.settings import Settings
from tests.factories import MP4, PASSWORD, signed_up, uploaded
from tests.fast.conftest import queued_messages

pytestmark = pytest.mark.anyio


async def test_failed_logins_lock_the_account_not_the_client(
    app: FastAPI, client: httpx.AsyncClient, settings: Settings, collaborators: Collaborators
) -> None:
    throttle = LoginThrottle(settings.model_copy(update={"login_failures_per_account": "3/minute"}))
    throttled = replace(collaborators, login_throttle=throttle)
    app.state.collaborators = throttled
    await signed_up(client)
    wrong = {"email": "ada@example.com", "password": "not-the-password"}
    codes = [(await client.post("/api/auth/login", json=wrong)).status_code for _ in range(3)]
    assert codes == [401, 401, 401]
    right = await client.post("/api/auth/login", json={**wrong, "password": PASSWORD})
    assert right.status_code == 429 and int(right.headers["retry-after"]) > 0
    assert right.json() == {"detail": "Too many failed logins for this account; try again later"}
    await signed_up(client, "eve@example.com")  # other accounts are not affected


async def test_auth_limits_are_per_ip_whatever_token_is_sent(
    settings: Settings, collaborators: Collaborators
) -> None:
    from app.main import create_app

    app = create_app(settings.model_copy(update={"rate_limit_auth": "3/minute"}))
    app.state.collaborators = collaborators
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as client:
        body = {"email": "x@example.com", "password": "guess"}
        codes = []
        for token in ("a", "b", "c", "d"):
            headers = {"Authorization": f"Bearer {token}"}
            codes.append(
                (await client.post("/api/auth/login", json=body, headers=headers)).status_code
            )
    assert codes == [401, 401, 401, 429]


async def test_upload_slots_per_user_and_per_process() -> None:
    slots = UploadSlots(per_process=3, per_user=2)
    async with slots.hold(1), slots.hold(1):
        with pytest.raises(TooManyRequests):
            async with slots.hold(1):
                pass
        async with slots.hold(2):
            with pytest.raises(ServiceUnavailable):
                async with slots.hold(3):
                    pass
    assert slots.active == 0 and not slots.by_user
    s3 = Settings(
        storage_backend="s3", s3_part_bytes=8 * 2**20, s3_upload_memory_budget_bytes=64 * 2**20
    )
    assert UploadSlots.from_settings(s3).per_process == 8  # 64 MiB of part buffers


async def _ignore(_chunk: bytes) -> None:
    return None


async def _drip(count: int, every: float) -> AsyncIterator[bytes]:
    for _ in range(count):
        await asyncio.sleep(every)
        yield b"x"


async def test_a_drip_is_cut_even_though_it_never_stalls() -> None:
    settings = Settings(upload_min_bytes_per_second=100, upload_rate_grace_seconds=0.3)
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(RequestTimeout, match="Upload too slow"):
        await receive_paced(_drip(1000, 0.05), settings, _ignore)
    assert loop.time() - started < 2


async def test_a_steady_upload_passes_and_the_deadline_holds() -> None:
    fast = Settings(upload_min_bytes_per_second=10, upload_rate_grace_seconds=0.1)
    seen: list[bytes] = []

    async def keep(chunk: bytes) -> None:
        seen.append(chunk)

    await receive_paced(_drip(20, 0.005), fast, keep)
    assert seen == [b"x"] * 20
    short = Settings(upload_min_bytes_per_second=0, upload_deadline_seconds=0.2)
    with pytest.raises(RequestTimeout, match="longer than 0.2 s"):
        await receive_paced(_drip(100, 0.05), short, _ignore)


async def test_a_stall_is_cut_too() -> None:
    async def stall() -> AsyncIterator[bytes]:
        yield b"x"
        await asyncio.sleep(60)
        yield b"never"

    settings = Settings(upload_min_bytes_per_second=100, upload_rate_grace_seconds=0.3)
    with pytest.raises(RequestTimeout, match="Upload too slow"):
        await receive_paced(stall(), settings, _ignore)


async def test_queued_jobs_quota_is_429_and_stored_bytes_quota_is_507(
    app: FastAPI, client: httpx.AsyncClient, settings: Settings
) -> None:
    settings.max_queued_jobs_per_user = 2
    auth = await signed_up(client)
    assert [(await uploaded(client, auth)).status_code for _ in range(2)] == [202, 202]
    third = await uploaded(client, auth)
    assert third.status_code == 429 and "2 videos waiting" in third.json()["detail"]
    settings.max_queued_jobs_per_user = 0
    settings.max_stored_bytes_per_user = 3 * len(MP4)  # room for three uploads
    assert (await uploaded(client, auth)).status_code == 202
    over = await uploaded(client, auth)
    assert over.status_code == 507 and over.json()["detail"].startswith("Storage quota exceeded")
    assert len(queued_messages(settings)) == 3  # nothing was sent for the refused ones
    stored = [p for p in settings.resolved_storage_dir.rglob("*") if p.is_file()]
    assert len(stored) == 3  # and nothing of theirs stayed in storage


async def test_a_fast_upload_with_a_pause_near_the_grace_period_is_not_cut() -> None:
    """300 uploading users in `make bench` got a 408 "Upload too slow: 807225 bytes/s": the
    deadline stayed at the grace period's end until 2 s before it, so a pause across that
    moment cut an upload far above the minimum rate."""

    async def burst_pause_rest() -> AsyncIterator[bytes]:
        for _ in range(8):  # 80 kB in 0.8 s: the budget already runs to 80 s
            await asyncio.sleep(0.1)
            yield b"x" * 10_000
        await asyncio.sleep(2.7)  # across the grace period's end (3 s)
        yield b"x" * 10_000

    settings = Settings(upload_min_bytes_per_second=1000, upload_rate_grace_seconds=3.0)
    seen: list[bytes] = []

    async def keep(chunk: bytes) -> None:
        seen.append(chunk)

    await receive_paced(burst_pause_rest(), settings, keep)
    assert len(seen) == 9
