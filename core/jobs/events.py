"""Job change notifications: every state or progress write the worker makes is announced, so the
API can push it to live streams (app/videos/live.py) instead of each client polling.

With a Redis broker the notice goes out on Redis pub/sub (JOB_EVENTS_CHANNEL): fire-and-forget —
the database row stays the truth, and a stream that missed a notice reads the row again. On the
embedded default (no Redis) nothing is published; the API polls the rows it watches instead."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from core.models import public_status
from core.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobEvent:
    video_id: int
    status: str
    progress: int
    error: str | None = None
    at: float = 0.0  # wall-clock time of the write (delivery latency is measured from it)

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, raw: str | bytes) -> JobEvent:
        data: dict[str, Any] = json.loads(raw)
        return cls(int(data["video_id"]), str(data["status"]), int(data["progress"]),
                   data.get("error"), float(data.get("at", 0.0)))  # fmt: skip


class EventSink(Protocol):
    def __call__(self, event: JobEvent) -> None: ...


def pubsub_enabled(settings: Settings) -> bool:
    return settings.celery_broker_url.startswith(("redis://", "rediss://"))


class RedisEventSink:
    """Publishes on the broker's Redis. A failure is logged, never raised: a job's progress must
    not stop because nobody could be told about it."""

    def __init__(self, settings: Settings) -> None:
        import redis

        self.channel = settings.job_events_channel
        self.client = redis.Redis.from_url(
            settings.celery_broker_url, socket_timeout=0.5, socket_connect_timeout=0.5
        )

    def __call__(self, event: JobEvent) -> None:
        try:
            self.client.publish(self.channel, event.to_json())
        except Exception as exc:  # noqa: BLE001 - best effort by design
            log.warning("job event not published: %s", exc)


def no_sink(event: JobEvent) -> None:
    """The embedded default: the API polls the rows instead."""


def make_sink(settings: Settings) -> EventSink:
    return RedisEventSink(settings) if pubsub_enabled(settings) else no_sink


def event_now(video_id: int, status: str, progress: int, error: str | None = None) -> JobEvent:
    return JobEvent(video_id, public_status(status).value, progress, error, time.time())
