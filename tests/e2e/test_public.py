"""Public list, one vote per user per video (also under concurrency), rankings by city."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.api_client import Api


def _published(api: Api, auth: dict[str, str], clip: Path, title: str = "Pub") -> int:
    video_id = api.processed_video(auth, clip, title)
    assert api.http.post(f"/api/videos/{video_id}/publish", headers=auth).status_code == 200
    return video_id


def test_twenty_concurrent_duplicate_votes_count_once(api: Api, clip_small: Path) -> None:
    owner, voter = api.user(), api.user()
    video_id = _published(api, owner, clip_small)

    def vote(_: int) -> httpx.Response:
        return httpx.post(
            f"{api.base_url}/api/public/videos/{video_id}/vote", headers=voter, timeout=30
        )

    with ThreadPoolExecutor(20) as pool:
        responses = list(pool.map(vote, range(20)))
    codes = sorted(r.status_code for r in responses)
    assert codes == [200] + [400] * 19, codes
    assert [r.json() for r in responses if r.status_code == 200] == [
        {"message": "Vote successfully registered"}
    ]
    duplicates = {r.json()["detail"] for r in responses if r.status_code == 400}
    assert duplicates == {"You have already voted for this video"}
    assert api.video(owner, video_id)["votes"] == 1


def test_vote_on_missing_or_unpublished_video_is_404(api: Api, clip_small: Path) -> None:
    owner, voter = api.user(), api.user()
    missing = api.http.post("/api/public/videos/999999/vote", headers=voter)
    assert missing.status_code == 404 and missing.json() == {"detail": "Video not found"}
    private = api.processed_video(owner, clip_small)
    response = api.http.post(f"/api/public/videos/{private}/vote", headers=voter)
    assert response.status_code == 404 and response.json() == {"detail": "Video not found"}
    assert api.http.post(f"/api/public/videos/{private}/vote").status_code == 401


def test_rankings_order_city_filter_and_pagination(api: Api, clip_small: Path) -> None:
    city, other_city = f"Town-{uuid.uuid4().hex[:6]}", f"Elsewhere-{uuid.uuid4().hex[:6]}"
    players = [api.user(city=city, first_name=f"P{i}") for i in range(3)]
    outsider = api.user(city=other_city, first_name="Out")
    videos = [_published(api, p, clip_small) for p in players]
    outsider_video = _published(api, outsider, clip_small)
    voters = [api.user() for _ in range(3)]
    # P1 gets 3 votes, P0 gets 1, P2 gets 0; the outsider gets 2.
    for voter in voters:
        assert (
            api.http.post(f"/api/public/videos/{videos[1]}/vote", headers=voter).status_code == 200
        )
    assert (
        api.http.post(f"/api/public/videos/{videos[0]}/vote", headers=voters[0]).status_code == 200
    )
    for voter in voters[:2]:
        assert (
            api.http.post(f"/api/public/videos/{outsider_video}/vote", headers=voter).status_code
            == 200
        )

    ranked = api.http.get("/api/public/rankings", params={"city": city})
    assert ranked.status_code == 200 and ranked.headers["X-Total-Count"] == "3"
    rows = ranked.json()
    assert [set(r) for r in rows] == [{"position", "username", "city", "votes"}] * 3
    assert [(r["position"], r["username"], r["votes"]) for r in rows] == [
        (1, "P1 User", 3), (2, "P0 User", 1), (3, "P2 User", 0),
    ]  # fmt: skip
    assert {r["city"] for r in rows} == {city}

    page2 = api.http.get(
        "/api/public/rankings", params={"city": city, "page": 2, "limit": 2}
    ).json()
    assert [(r["position"], r["username"]) for r in page2] == [(3, "P2 User")]
    case_insensitive = api.http.get("/api/public/rankings", params={"city": city.upper()}).json()
    assert len(case_insensitive) == 3


@pytest.mark.parametrize("params", [{"page": 0}, {"limit": 0}, {"limit": 101}, {"page": -3}])
def test_rankings_bad_paging_is_400(api: Api, params: dict[str, int]) -> None:
    response = api.http.get("/api/public/rankings", params=params)
    assert response.status_code == 400 and "detail" in response.json()


def test_my_videos_newest_first_with_limit_offset_and_page(api: Api, clip_small: Path) -> None:
    auth = api.user()
    ids = [api.upload(auth, clip_small, title=f"v{i}").json()["video_id"] for i in range(3)]
    listing = api.http.get("/api/videos", headers=auth)
    assert [v["video_id"] for v in listing.json()] == ids[::-1]
    first = api.http.get("/api/videos", headers=auth, params={"limit": 2})
    assert first.headers["X-Total-Count"] == "3" and len(first.json()) == 2
    by_offset = api.http.get("/api/videos", headers=auth, params={"limit": 2, "offset": 2}).json()
    by_page = api.http.get("/api/videos", headers=auth, params={"limit": 2, "page": 2}).json()
    assert [v["video_id"] for v in by_offset] == [v["video_id"] for v in by_page] == [ids[0]]
    assert api.http.get("/api/videos", headers=auth, params={"limit": 500}).status_code == 400
