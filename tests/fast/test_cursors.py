"""Keyset pages of the public list and the rankings: following X-Next-Cursor walks exactly the
rows the seed's offset pages show, in the same order with the same positions, and a cursor the
API never gave out is a 400 — for the whole list and for one city (case-insensitive)."""

from __future__ import annotations

import random

import httpx
import pytest
from sqlalchemy import create_engine, text

from core.models import utcnow
from core.settings import Settings
from tests import workload

pytestmark = pytest.mark.anyio


def _seed(settings: Settings) -> None:
    engine = create_engine(settings.database_url.replace("+aiosqlite", ""))
    random.seed(5)
    people = workload.users(engine, 30)
    videos = [v for owner in people for v in workload.upload(engine, owner, 2)]
    with engine.begin() as conn:
        for video in videos[:45]:
            conn.execute(text("UPDATE video SET status = 'processed', published = 1, "
                              "published_at = :at WHERE id = :id"),
                         {"at": utcnow(), "id": video})  # fmt: skip
            for voter in random.sample(people, random.randint(0, 6)):
                conn.execute(text("INSERT INTO vote (video_id, user_id, created_at) "
                                  "VALUES (:v, :u, :at)"), {"v": video, "u": voter, "at": utcnow()})  # fmt: skip
    engine.dispose()


async def _walk(client: httpx.AsyncClient, path: str, limit: int) -> list[dict[str, object]]:
    seen: list[dict[str, object]] = []
    sep = "&" if "?" in path else "?"
    response = await client.get(f"{path}{sep}limit={limit}")
    while True:
        assert response.status_code == 200
        seen += response.json()
        cursor = response.headers.get("X-Next-Cursor")
        if not cursor:
            return seen
        response = await client.get(f"{path}{sep}limit={limit}&cursor={cursor}")


async def _offsets(client: httpx.AsyncClient, path: str, limit: int) -> list[dict[str, object]]:
    sep = "&" if "?" in path else "?"
    rows: list[dict[str, object]] = []
    for page in range(1, 100):
        batch = (await client.get(f"{path}{sep}limit={limit}&page={page}")).json()
        if not batch:
            return rows
        rows += batch
    raise AssertionError("no end")


@pytest.mark.parametrize(
    "path", ["/api/public/videos", "/api/public/rankings", "/api/public/rankings?city=BOGOTA"]
)
async def test_cursor_pages_walk_exactly_the_offset_pages(
    client: httpx.AsyncClient, settings: Settings, path: str
) -> None:
    _seed(settings)
    by_offset = await _offsets(client, path, 7)
    assert len(by_offset) > 7  # several pages
    assert await _walk(client, path, 7) == by_offset
    total = (await client.get(path)).headers["X-Total-Count"]
    assert int(total) == len(by_offset)


async def test_a_cursor_the_api_never_gave_is_a_400(client: httpx.AsyncClient) -> None:
    huge = "Wzk5OTk5OTk5OTk5OTk5LDEsMV0"  # [99999999999999,1,1]: past the 32-bit counters
    for bad in ("bm9wZQ", "WzEsMl0", "!!", huge):
        response = await client.get(f"/api/public/rankings?cursor={bad}")
        assert response.status_code in (400, 422) and "detail" in response.json()
    response = await client.get("/api/public/videos?cursor=WyJ4IiwxLDFd")  # ["x",1,1]
    assert response.status_code == 400
