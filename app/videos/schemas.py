"""Request and response bodies of the video routes (the seed API's field names)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, field_serializer

from core.models import VideoStatus, as_utc

Variant = Literal["original", "processed", "thumbnail"]


def file_url(video_id: int, variant: Variant) -> str:
    return f"/api/videos/{video_id}/file?variant={variant}"


class _Timestamps(BaseModel):
    @field_serializer("*", when_used="json")
    def _utc(self, value: object) -> object:
        return as_utc(value).isoformat() if isinstance(value, datetime) else value


class UploadAccepted(BaseModel):
    message: str = "Video subido exitosamente. Procesamiento en cola."
    task_id: str
    video_id: int
    status: VideoStatus = VideoStatus.queued
    status_url: str


class VideoSummary(_Timestamps):
    video_id: int
    title: str
    status: VideoStatus
    progress: int
    uploaded_at: datetime
    processed_at: datetime | None
    processed_url: str | None


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
