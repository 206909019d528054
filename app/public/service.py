"""Published videos, one vote per user per video, and player rankings."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import BadRequest, NotFound
from app.pagination import After, Page
from app.public.schemas import PublicVideo, RankingEntry
from app.videos import outputs
from app.videos.schemas import file_url
from app.videos.service import NOT_FOUND
from core.counters import read_tallies
from core.models import User, Video, Vote, as_utc
from core.settings import Settings


async def list_public(
    session: AsyncSession, settings: Settings, page: Page, after: After | None = None
) -> tuple[list[PublicVideo], int, After | None]:
    """Newest published first: a walk of ix_video_public (offset pages skip index entries;
    cursor pages seek). Votes come from video.votes, kept by trigger (core/counters.py)."""
    total = (await read_tallies(session, "published"))["published"]
    newest = (Video.published_at.desc(), Video.id.desc())
    # The page's ids first, from the index alone (skipped rows are index entries, not joined
    # rows), then the page itself.
    ids = select(Video.id).where(Video.published.is_(True)).order_by(*newest).limit(page.limit)
    if after is None:
        ids = ids.offset(page.offset)
    else:
        at = _published_at(after.key)
        ids = ids.where(Video.published_at <= at, (Video.published_at < at) | (Video.id < after.id))
    page_ids = ids.subquery()
    query = (  # joins (index probes per row of the page), never a scan of the videos
        select(Video, User)
        .join(page_ids, page_ids.c.id == Video.id)
        .join(User, User.id == Video.owner_id)
        .order_by(*newest)
    )
    rows = (await session.execute(query)).all()
    first = (after.position if after is not None else page.offset) + 1
    videos = [
        PublicVideo(
            video_id=video.id,
            id=video.id,
            title=video.title,
            uploaded_at=video.uploaded_at,
            processed_url=outputs.processed_url(settings, video),
            thumbnail_url=file_url(video.id, "thumbnail"),
            preview_url=outputs.preview_url(settings, video),
            owner_name=f"{user.first_name} {user.last_name}",
            owner_city=user.city,
            votes=video.votes,
        )
        for video, user in rows
    ]
    following = None
    if len(rows) == page.limit:
        last = rows[-1][0]
        key = as_utc(last.published_at).isoformat() if last.published_at else ""
        following = After(key, last.id, first - 1 + len(rows))
    return videos, total, following


def _published_at(key: str | int) -> datetime:
    try:
        return datetime.fromisoformat(str(key))
    except ValueError:
        raise BadRequest("cursor is not one this API gave out (use X-Next-Cursor)") from None


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
    session: AsyncSession, page: Page, city: str | None, after: After | None = None
) -> tuple[list[RankingEntry], int, After | None]:
    """Players by the votes on their published videos (user.votes_received, kept by trigger):
    a walk of ix_user_ranking, or of ix_user_city_ranking for one city (case-insensitive)."""
    ranked = select(User.id).where(User.published_videos > 0)
    if city:
        ranked = ranked.where(func.lower(User.city) == city.strip().lower())
        total = await session.scalar(select(func.count()).select_from(ranked.subquery()))
    else:
        total = (await read_tallies(session, "ranked"))["ranked"]
    most = (User.votes_received.desc(), User.id.asc())
    # The page's ids from the index alone (index-only: skipped rows cost an index entry each),
    # then their names.
    ids = ranked.add_columns(User.votes_received).order_by(*most).limit(page.limit)
    if after is None:
        ids = ids.offset(page.offset)
    else:
        if not isinstance(after.key, int):
            raise BadRequest("cursor is not one this API gave out (use X-Next-Cursor)")
        ids = ids.where(
            User.votes_received <= after.key,
            (User.votes_received < after.key) | (User.id > after.id),
        )
    page_ids = ids.subquery()
    query = (  # a join (one index probe per row of the page), never a scan of the users
        select(User.id, User.first_name, User.last_name, User.city, User.votes_received)
        .join(page_ids, page_ids.c.id == User.id)
        .order_by(*most)
    )
    rows = (await session.execute(query)).all()
    start = after.position if after is not None else page.offset
    entries = [
        RankingEntry(
            position=start + index + 1,
            username=f"{first} {last}",
            city=user_city,
            votes=count,
        )
        for index, (_id, first, last, user_city, count) in enumerate(rows)
    ]
    following = None
    if len(rows) == page.limit:
        following = After(int(rows[-1].votes_received), int(rows[-1].id), start + len(rows))
    return entries, total or 0, following
