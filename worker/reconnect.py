"""Re-send at once what the broker lost: a consumer step that Celery starts again every time the
worker reconnects to its broker (the consumer's blueprint restarts after a connection loss). On
each start after the first it tells the reconciler, which re-sends the queued jobs the broker no
longer holds (core/jobs/resend.py) instead of waiting RESEND_AFTER_SECONDS for them to look lost.
"""

from __future__ import annotations

from typing import Any

from celery import bootsteps

_started = {"count": 0}  # consumer starts in this process (steps may be rebuilt on restart)


class ResendOnReconnect(bootsteps.StartStopStep):  # type: ignore[misc]  # celery is untyped
    requires = {"celery.worker.consumer.tasks:Tasks"}

    def start(self, parent: Any) -> None:
        _started["count"] += 1
        if _started["count"] > 1:
            from worker.reconciler import broker_reconnected

            broker_reconnected()
