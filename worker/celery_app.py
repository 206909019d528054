"""Celery configuration for the worker: acks, prefetch, limits, routes. Nothing else."""

from __future__ import annotations

from typing import Any

from celery.signals import worker_ready, worker_shutdown

from app.broker import make_celery
from app.logging_setup import configure_logging
from app.settings import get_settings

settings = get_settings()
configure_logging()

celery_app = make_celery(settings, name="reelforge-worker")
celery_app.conf.update(
    include=["worker.tasks"],
    # A message is acknowledged only after the task finishes; a killed child puts it back.
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_soft_time_limit=settings.task_soft_time_limit,
    task_time_limit=settings.task_time_limit,
    worker_concurrency=settings.worker_concurrency,
    worker_max_tasks_per_child=200,
    worker_cancel_long_running_tasks_on_connection_loss=True,
    worker_send_task_events=False,
    worker_hijack_root_logger=False,
)


@worker_ready.connect
def _start_reconciler(**_: Any) -> None:
    from worker.reconciler import start_reconciler

    start_reconciler(settings)


@worker_shutdown.connect
def _stop_reconciler(**_: Any) -> None:
    from worker.reconciler import stop_reconciler

    stop_reconciler()
