"""Bodies of /api/webhooks."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from app.videos.schemas import UtcDateTime

EventType = Literal["video.processed", "video.failed"]


class WebhookCreate(BaseModel):
    url: str = Field(
        min_length=8,
        max_length=2048,
        pattern=r"^[^\x00-\x20]*$",
        examples=["https://example.com/hooks/reelforge"],
    )
    events: list[EventType] = Field(
        default=["video.processed", "video.failed"], min_length=1, max_length=2
    )


class WebhookOut(BaseModel):
    id: int
    url: str
    events: list[EventType]
    enabled: bool
    disabled_reason: str | None
    consecutive_failures: int
    created_at: UtcDateTime


class WebhookCreated(WebhookOut):
    secret: str = Field(description="Verifies deliveries (Standard Webhooks). Shown only once.")


class WebhookDeleted(BaseModel):
    message: str = "Webhook deleted"
    id: int


class DeliveryOut(BaseModel):
    id: str = Field(description="The webhook-id header of the delivery")
    event_type: EventType
    video_id: int
    status: Literal["pending", "delivered", "failed"]
    attempts: int
    last_status_code: int | None
    last_error: str | None
    last_response: str | None = Field(description="The start of the last answer (≤ 1 KB)")
    next_attempt_at: UtcDateTime | None
    created_at: UtcDateTime
    delivered_at: UtcDateTime | None
