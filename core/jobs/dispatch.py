"""Sending job messages. The only way to enqueue is `enqueue_after_commit`: a message is an
after-commit action of the transaction that made the job, so it can never announce a row that
is not durable. A send that fails leaves the job `queued`; the reconciler sends it again."""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass, field

from celery import Celery
from kombu.exceptions import ChannelError
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import after_commit
from core.jobs.broker import (
    DELIVER_WEBHOOK_TASK,
    PROCESS_VIDEO_TASK,
    broker_transport_options,
    make_celery,
)
from core.request_id import current_request_id
from core.settings import Settings


@dataclass(frozen=True)
class JobMessage:
    task_name: str
    task_id: str
    args: tuple[int | str, ...]
    request_id: str | None = field(default_factory=current_request_id)


def process_video_message(video_id: int, task_id: str) -> JobMessage:
    return JobMessage(PROCESS_VIDEO_TASK, task_id, (video_id,))


def deliver_webhook_message(delivery_id: str) -> JobMessage:
    return JobMessage(DELIVER_WEBHOOK_TASK, uuid.uuid4().hex, (delivery_id,))


class JobPublisher:
    """Publishes job messages to the broker; one per process, the Celery producer made lazily."""

    def __init__(self, settings: Settings, name: str) -> None:
        self.settings, self.name = settings, name
        if settings.celery_broker_url.startswith("filesystem"):
            # The folders exist before the first request (and /ready) — not when a worker or the
            # first publish happens to create them.
            broker_transport_options(settings)

    @functools.cached_property
    def celery(self) -> Celery:
        return make_celery(self.settings, name=self.name)

    def send(self, message: JobMessage) -> None:
        """Blocking publish with a bounded retry; call from a thread or a worker process."""
        self.celery.send_task(
            message.task_name,
            args=list(message.args),
            task_id=message.task_id,
            headers={"request_id": message.request_id} if message.request_id else None,
            retry=True,
            retry_policy={"max_retries": 2, "interval_start": 0.1, "interval_step": 0.2},
        )

    def queue_depth(self, queue: str) -> int | None:
        """Messages waiting in the broker's queue (0 when it has none: a Redis that restarted
        empty has no queue at all); None when the broker cannot be asked."""
        try:
            with self.celery.connection_for_write() as conn:
                declared = conn.default_channel.queue_declare(queue=queue, passive=True)
                return int(declared.message_count)
        except ChannelError:  # no such queue
            return 0
        except Exception:  # the broker is unreachable: nobody knows
            return None


def enqueue_after_commit(
    session: AsyncSession, publisher: JobPublisher, message: JobMessage
) -> None:
    after_commit(session, functools.partial(publisher.send, message))
