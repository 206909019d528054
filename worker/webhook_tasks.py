"""The webhook delivery task: one attempt (core/webhooks/sender.py); retries are scheduled in the
database and sent by the reconciler, so a long backoff never sits in the broker."""

from __future__ import annotations

import logging

from core.jobs.broker import DELIVER_WEBHOOK_TASK
from core.webhooks.sender import deliver
from worker.celery_app import task
from worker.context import get_context

log = logging.getLogger(__name__)


@task(name=DELIVER_WEBHOOK_TASK)
def deliver_webhook(delivery_id: str) -> str:
    context = get_context()
    outcome = deliver(context.jobs.sessions, context.settings, str(delivery_id))
    log.info("webhook delivery %s: %s", delivery_id, outcome)
    return outcome
