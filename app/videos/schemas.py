"""Request and response bodies of the video routes (the seed API's field names)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field

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
    profile: str = Field(default="reel", description="The output profile (GET /api/profiles)")
    published: bool = False
    thumbnail_url: str | None = None


class VideoOutput(BaseModel):
    """One thing the job made. `hls`: the master playlist (name `master`) and each rendition's
    media playlist (`720p`, …) behind signed playback links; `mp4` the file; `thumbnail`."""

    kind: Literal["hls", "mp4", "thumbnail", "storyboard", "preview"]
    name: str
    url: str
    width: int | None = None
    height: int | None = None
    bitrate: int | None = Field(default=None, description="bits per second (HLS: BANDWIDTH)")
    codecs: str | None = Field(default=None, description='RFC 6381, e.g. "avc1.64001f,mp4a.40.2"')


class VideoDetail(VideoSummary):
    error: str | None
    original_url: str
    duration_seconds: float | None
    votes: int
    outputs: list[VideoOutput] = Field(default_factory=list)


class VideoDeleted(BaseModel):
    message: str = "Video eliminado exitosamente"
    video_id: int
