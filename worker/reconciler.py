"""The reconciler thread: runs core.jobs.resend (with the originals' retention, the sweep of
expired resumable uploads and the webhook deliveries that are due) every
RECONCILE_INTERVAL_SECONDS in each worker's main process — and at once when the worker has just
reconnected to its broker (worker/reconnect.py). Several replicas are safe (SKIP LOCKED, and
the claim is a compare-and-set)."""

from __future__ import annotations

import logging
import threading
from datetime import datetime

from core.db import make_sync_sessions
from core.jobs.dispatch import JobPublisher, deliver_webhook_message
from core.jobs.resend import resend_after_reconnect, resend_stale_jobs
from core.jobs.retention import purge_expired_originals
from core.jobs.store import JobStore
from core.jobs.upload_expiry import sweep_expired_uploads
from core.models import utcnow
from core.settings import Settings
from core.storage import make_storage
from core.webhooks.sender import due as due_deliveries
from worker.orphans import process_alive

log = logging.getLogger(__name__)
_stop = threading.Event()
_wake = threading.Event()  # set by a stop or a reconnect: no waiting for the interval
_reconnects: list[datetime] = []  # when the broker came back, not yet handled


def _loop(settings: Settings) -> None:
    sessions = make_sync_sessions(settings)
    jobs = JobStore(sessions, settings.lease_seconds)
    publisher = JobPublisher(settings, name="reelforge-reconciler")
    storage = make_storage(settings)
    while True:
        _wake.wait(settings.reconcile_interval_seconds)
        _wake.clear()
        if _stop.is_set():
            return
        try:
            if _reconnects:
                resend_after_reconnect(jobs, publisher, settings, max(_reconnects))
                _reconnects.clear()
            dead = jobs.expire_dead_claims(process_alive)  # a killed child: no lease to wait for
            if dead:
                log.info("jobs of worker processes that died here: %s (re-sent now)", dead)
            resend_stale_jobs(jobs, publisher, settings)
            purge_expired_originals(sessions, storage, settings.original_retention_seconds)
            sweep_expired_uploads(sessions, storage, settings.s3_part_bytes)
            for delivery_id in due_deliveries(
                sessions, settings
            ):  # retries, and messages that were lost
                publisher.send(deliver_webhook_message(delivery_id))
        except Exception:  # DB, broker or storage down: try again next round
            log.exception("reconciler round failed")


def start_reconciler(settings: Settings) -> None:
    _stop.clear()
    threading.Thread(target=_loop, args=(settings,), name="reconciler", daemon=True).start()


def stop_reconciler() -> None:
    _stop.set()
    _wake.set()


def broker_reconnected() -> None:
    _reconnects.append(utcnow())
    _wake.set()
