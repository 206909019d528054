"""Celery configuration for the worker: acks, prefetch, limits, routes. Nothing else."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import warnings
from collections.abc import Callable
from typing import Any, TypeVar


def _own_metrics_dir() -> None:
    """Children report metrics through files; this must be set before prometheus_client is
    imported. A folder made here (no PROMETHEUS_MULTIPROC_DIR given) is removed when the
    process that made it exits — not when a forked child does — instead of one left in /tmp
    per process that ever imported this module."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return
    folder, owner = tempfile.mkdtemp(prefix="reelforge-worker-metrics-"), os.getpid()
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = folder

    def remove() -> None:
        if os.getpid() == owner:
            shutil.rmtree(folder, ignore_errors=True)

    atexit.register(remove)


_own_metrics_dir()

from celery import Task  # noqa: E402
from celery.exceptions import CPendingDeprecationWarning, SecurityWarning  # noqa: E402
from celery.signals import (  # noqa: E402
    task_postrun,
    task_prerun,
    worker_process_init,
    worker_process_shutdown,
    worker_ready,
    worker_shutdown,
)

from core.jobs.broker import make_celery  # noqa: E402
from core.logging_setup import configure_logging  # noqa: E402
from core.profiles import load_profiles  # noqa: E402
from core.request_id import request_id_var  # noqa: E402
from core.settings import get_settings  # noqa: E402
from worker import metrics  # noqa: E402
from worker.reconnect import ResendOnReconnect  # noqa: E402

settings = get_settings()
load_profiles(settings.profiles_file)  # a bad profiles file stops the worker here, saying why
configure_logging()
MAIN_PID = os.getpid()  # read before the pool forks: its children's parent

# Chosen on purpose (below): running jobs outlive a broker restart. Celery warns at each one.
warnings.filterwarnings("ignore", category=CPendingDeprecationWarning,
                        message=r"\s*In Celery 5.1 we introduced")  # fmt: skip
if settings.environment == "dev":  # `make run` as root on a dev box: the advice is for servers
    warnings.filterwarnings("ignore", category=SecurityWarning, message="You're running the worker")

celery_app = make_celery(settings, name="reelforge-worker")
celery_app.conf.update(
    include=["worker.tasks", "worker.webhook_tasks"],
    # A message is acknowledged only after the task finishes; a killed child puts it back.
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_soft_time_limit=settings.task_soft_time_limit,
    task_time_limit=settings.task_time_limit,
    worker_concurrency=settings.worker_concurrency,
    worker_max_tasks_per_child=200,
    # A broker restart does not stop the jobs running: they finish and record their end in the
    # database (their message's ack may be lost; a re-delivery finds the job finished).
    worker_cancel_long_running_tasks_on_connection_loss=False,
    worker_send_task_events=False,
    worker_hijack_root_logger=False,
)

celery_app.steps["consumer"].add(ResendOnReconnect)

Handler = TypeVar("Handler", bound=Callable[..., Any])


def on(signal: Any) -> Callable[[Handler], Handler]:
    """`@signal.connect`, keeping the handler's type (Celery is untyped)."""

    def connect(handler: Handler) -> Handler:
        signal.connect(handler)
        return handler

    return connect


def task(**options: Any) -> Callable[[Handler], Handler]:
    """`@celery_app.task(**options)`, keeping the function's type for the checker (Celery is
    untyped; the name is registered with Celery, and only Celery calls it)."""
    register: Callable[[Handler], Handler] = celery_app.task(**options)
    return register


@on(worker_ready)
def _start_main_process_services(**_: Any) -> None:
    from worker.reconciler import start_reconciler

    if settings.worker_role == "webhooks":
        return  # the video workers' reconciler re-sends deliveries too
    start_reconciler(settings)
    metrics.serve(settings.worker_metrics_port, settings)


@on(worker_process_init)
def _clean_after_dead_children(**_: Any) -> None:
    from worker.orphans import die_with_parent
    from worker.tempdirs import remove_orphaned_temp_dirs

    die_with_parent(MAIN_PID)
    remove_orphaned_temp_dirs(settings.temp_dir)


@on(worker_process_shutdown)
def _child_exit(pid: int | None = None, **_: Any) -> None:
    metrics.child_exited(pid or os.getpid())


@on(task_prerun)
def _bind_request_id(task: Task | None = None, **_: Any) -> None:
    """The API's request id travels in the message headers; put it on every log line."""
    if task is None:
        return
    rid = getattr(task.request, "request_id", None) or (task.request.headers or {}).get(
        "request_id"
    )
    request_id_var.set(rid)


@on(task_postrun)
def _unbind_request_id(**_: Any) -> None:
    request_id_var.set(None)


@on(worker_shutdown)
def _stop_reconciler(**_: Any) -> None:
    from worker.reconciler import stop_reconciler

    stop_reconciler()
