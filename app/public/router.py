"""Routes /api/public/videos, /videos/{id}/vote and /rankings: thin, one service call each."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from app.deps import CurrentUser, SessionDep, SettingsDep
from app.openapi import NEXT_CURSOR_HEADER, TOTAL_COUNT, errors, with_headers
from app.pagination import CursorDep, PageDep, RankingPageDep, decode_cursor, set_next, set_total
from app.params import NO_NUL, VideoId
from app.public import service
from app.public.schemas import PublicVideo, RankingEntry, VoteRegistered

router = APIRouter(prefix="/api/public", tags=["public"])


@router.get(
    "/videos",
    response_model=list[PublicVideo],
    responses={200: with_headers(None, {**TOTAL_COUNT, **NEXT_CURSOR_HEADER}), **errors(400)},
)
async def public_videos(
    session: SessionDep,
    settings: SettingsDep,
    page: PageDep,
    response: Response,
    cursor: CursorDep = None,
) -> list[PublicVideo]:
    after = decode_cursor(cursor)
    videos, total, following = await service.list_public(session, settings, page, after)
    set_total(response, total)
    set_next(response, following)
    return videos


@router.post(
    "/videos/{video_id:int}/vote", response_model=VoteRegistered, responses=errors(400, 401, 404)
)
async def vote(video_id: VideoId, user: CurrentUser, session: SessionDep) -> VoteRegistered:
    await service.vote(session, user, video_id)
    return VoteRegistered()


@router.get(
    "/rankings",
    response_model=list[RankingEntry],
    responses={200: with_headers(None, {**TOTAL_COUNT, **NEXT_CURSOR_HEADER}), **errors(400)},
)
async def rankings(
    session: SessionDep,
    page: RankingPageDep,
    response: Response,
    city: Annotated[str | None, Query(max_length=100, pattern=NO_NUL)] = None,
    cursor: CursorDep = None,
) -> list[RankingEntry]:
    after = decode_cursor(cursor)
    entries, total, following = await service.rankings(session, page, city, after)
    set_total(response, total)
    set_next(response, following)
    return entries
