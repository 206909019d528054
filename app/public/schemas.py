"""Response bodies of the public routes (the seed API's field names)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from app.videos.schemas import _Timestamps


class PublicVideo(_Timestamps):
    video_id: int
    id: int
    title: str
    uploaded_at: datetime
    processed_url: str | None
    thumbnail_url: str | None
    owner_name: str
    owner_city: str | None
    votes: int


class VoteRegistered(BaseModel):
    message: str = "Vote successfully registered"


class RankingEntry(BaseModel):
    position: int
    username: str
    city: str | None
    votes: int
