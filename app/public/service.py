"""Published videos, one vote per user per video, and player rankings."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import BadRequest, NotFound
from app.pagination import Page
from app.public.schemas import PublicVideo, RankingEntry
from app.videos.schemas import file_url
from app.videos.service import NOT_FOUND
from core.models import User, Video, Vote

_vote_count = (
    select(func.count()).where(Vote.video_id == Video.id).correlate(Video).scalar_subquery()
)


async def list_public(session: AsyncSession, page: Page) -> tuple[list[PublicVideo], int]:
    total = await session.scalar(select(func.count()).where(Video.published.is_(True)))
    rows = await session.execute(
        select(Video, User, _vote_count.label("votes"))
        .join(User, User.id == Video.owner_id)
        .where(Video.published.is_(True))
        .order_by(Video.published_at.desc(), Video.id.desc())
        .limit(page.limit)
        .offset(page.offset)
    )
    videos = [
        PublicVideo(
            video_id=video.id,
            id=video.id,
            title=video.title,
            uploaded_at=video.uploaded_at,
            processed_url=file_url(video.id, "processed"),
            thumbnail_url=file_url(video.id, "thumbnail"),
            owner_name=f"{user.first_name} {user.last_name}",
            owner_city=user.city,
            votes=votes,
        )
        for video, user, votes in rows
    ]
    return videos, total or 0


async def vote(session: AsyncSession, voter: User, video_id: int) -> None:
    """Insert-or-nothing on the (video, user) unique key: concurrent duplicates count once.
    Owners cannot vote for their own videos."""
    owner_id = await session.scalar(
        select(Video.owner_id).where(Video.id == video_id, Video.published.is_(True))
    )
    if owner_id is None:
        raise NotFound(NOT_FOUND)
    if owner_id == voter.id:
        raise BadRequest("You cannot vote for your own video")
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    result = await session.execute(
        insert(Vote)
        .values(video_id=video_id, user_id=voter.id)
        .on_conflict_do_nothing(index_elements=["video_id", "user_id"])
        .returning(Vote.id)
    )
    if result.scalar_one_or_none() is None:
        raise BadRequest("You have already voted for this video")


async def rankings(
    session: AsyncSession, page: Page, city: str | None
) -> tuple[list[RankingEntry], int]:
    votes = func.count(Vote.id)
    query = (
        select(User.id, User.first_name, User.last_name, User.city, votes.label("votes"))
        .join(Video, (Video.owner_id == User.id) & Video.published.is_(True))
        .outerjoin(Vote, Vote.video_id == Video.id)
        .group_by(User.id, User.first_name, User.last_name, User.city)
    )
    if city:
        query = query.where(func.lower(User.city) == city.strip().lower())
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    rows = await session.execute(
        query.order_by(votes.desc(), User.id.asc()).limit(page.limit).offset(page.offset)
    )
    entries = [
        RankingEntry(
            position=page.offset + index + 1,
            username=f"{first} {last}",
            city=user_city,
            votes=count,
        )
        for index, (_id, first, last, user_city, count) in enumerate(rows)
    ]
    return entries, total or 0
