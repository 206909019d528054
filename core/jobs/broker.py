"""The Celery app factory and task names, shared by the producer (API) and the consumer
(worker). The worker adds its own execution settings (acks, prefetch, limits) on top."""

from __future__ import annotations

from typing import Any

from celery import Celery
from kombu.entity import Queue

from core.jobs import broker_guard
from core.settings import Settings

PROCESS_VIDEO_TASK = "videos.process"
DELIVER_WEBHOOK_TASK = "webhooks.deliver"


def broker_transport_options(settings: Settings) -> dict[str, Any]:
    if settings.celery_broker_url.startswith("filesystem"):
        folder = settings.resolved_broker_dir
        for sub in ("queue", "processed", "control"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
        return {
            "data_folder_in": str(folder / "queue"),
            "data_folder_out": str(folder / "queue"),
            "processed_folder": str(folder / "processed"),
            # kombu's default is ./control, relative to whatever directory the process runs in.
            "control_folder": str(folder / "control"),
            "store_processed": False,
        }
    timeout = settings.broker_timeout_seconds
    return {
        "visibility_timeout": settings.visibility_timeout,
        "unacked_restore_interval": max(1, settings.broker_restore_interval_seconds // 10),
        "unacked_restore_throttle": min(10, max(1, settings.broker_restore_interval_seconds)),
        "socket_timeout": timeout,
        "socket_connect_timeout": timeout,
        "max_retries": 1,
    }


def make_celery(settings: Settings, name: str = "reelforge") -> Celery:
    broker_guard.install()  # a Redis restart must not end the process (core/jobs/broker_guard.py)
    celery = Celery(name, broker=settings.celery_broker_url)
    celery.conf.update(
        broker_transport_options=broker_transport_options(settings),
        broker_connection_timeout=settings.broker_timeout_seconds,
        broker_connection_retry_on_startup=True,
        task_serializer="json",
        accept_content=["json"],
        result_serializer="json",
        task_ignore_result=True,
        result_backend=None,
        task_default_queue=settings.celery_queue,
        task_queues=[
            Queue(settings.celery_queue, routing_key=settings.celery_queue),
            Queue(settings.webhook_queue, routing_key=settings.webhook_queue),
        ],
        task_routes={
            PROCESS_VIDEO_TASK: {"queue": settings.celery_queue},
            DELIVER_WEBHOOK_TASK: {"queue": settings.webhook_queue},
        },
        task_create_missing_queues=False,
        timezone="UTC",
        enable_utc=True,
    )
    return celery
