"""Request and response bodies of the video routes (the seed API's field names)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel

from core.models import PublicStatus, as_utc

Variant = Literal["original", "processed", "thumbnail"]


def file_url(video_id: int, variant: Variant) -> str:
    return f"/api/videos/{video_id}/file?variant={variant}"


# Every time in a response is UTC with its offset (SQLite hands back naive datetimes). A type,
# not a serializer over "*": the schema keeps `format: date-time` and every field's type.
UtcDateTime = Annotated[datetime, AfterValidator(as_utc)]


class UploadAccepted(BaseModel):
    message: str = "Video subido exitosamente. Procesamiento en cola."
    task_id: str
    video_id: int
    status: PublicStatus = PublicStatus.queued
    status_url: str


class VideoSummary(BaseModel):
    video_id: int
    title: str
    status: PublicStatus
    progress: int
    uploaded_at: UtcDateTime
    processed_at: UtcDateTime | None
    processed_url: str | None
    # 1 = the next job a free worker takes; null unless queued (core/jobs/positions.py)
    queue_position: int | None = None
    # seconds until processed, from the fleet's measured throughput; null when not measurable
    eta_seconds: int | None = None
    # set while a failed attempt waits for its retry (status `queued`, no place in line yet)
    retry_at: UtcDateTime | None = None


class VideoDetail(VideoSummary):
    error: str | None
    original_url: str
    thumbnail_url: str | None
    duration_seconds: float | None
    published: bool
    votes: int


class VideoDeleted(BaseModel):
    message: str = "Video eliminado exitosamente"
    video_id: int
