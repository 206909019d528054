"""Response bodies of the public routes (the seed API's field names)."""

from __future__ import annotations

from pydantic import BaseModel

from app.videos.schemas import UtcDateTime


class PublicVideo(BaseModel):
    video_id: int
    id: int
    title: str
    uploaded_at: UtcDateTime
    processed_url: str | None
    thumbnail_url: str | None
    preview_url: str | None = None  # an animated WebP, when the video's profile made one
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
