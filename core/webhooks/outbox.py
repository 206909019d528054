"""The outbox: a job's terminal write and its webhook deliveries commit together (JobStore calls
`record` inside that transaction), so an event is never lost and never announced for a state
that did not commit. The rows are sent after the commit; the reconciler re-sends any whose
message was lost (the reconciler's webhook sweep, worker/reconciler.py)."""

from __future__ import annotations

import json
import logging
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.jobs.dispatch import JobPublisher, deliver_webhook_message
from core.models import Webhook, WebhookDelivery, utcnow
from core.settings import Settings

log = logging.getLogger(__name__)


def video_links(video_id: int, settings: Settings, processed: bool) -> dict[str, str | None]:
    base = (settings.public_base_url or "").rstrip("/")
    file = f"{base}/api/videos/{video_id}/file?variant="
    return {
        "status_url": f"{base}/api/videos/{video_id}",
        "processed_url": file + "processed" if processed else None,
        "thumbnail_url": file + "thumbnail" if processed else None,
    }


def _outputs(stored: str | None) -> list[dict[str, Any]]:
    """What the job made, without storage keys or URLs that expire: `processed_url` (which
    redirects to a fresh playback link for an hls output) and `thumbnail_url` stay valid."""
    fields = ("kind", "name", "width", "height", "bitrate", "codecs")
    return [{k: item.get(k) for k in fields} for item in json.loads(stored or "[]")]


def payload(event_type: str, video: dict[str, Any], settings: Settings) -> str:
    """The Standard Webhooks body: {type, timestamp, data}."""
    processed = video["status"] == "processed"
    data = {
        "video_id": video["id"],
        "title": video["title"],
        "status": video["status"],
        "error": video.get("error"),
        **video_links(video["id"], settings, processed),
        "profile": video.get("profile") or "reel",
        "outputs": _outputs(video.get("outputs")),
    }
    body = {"type": event_type, "timestamp": utcnow().isoformat(), "data": data}
    return json.dumps(body, separators=(",", ":"))


def record(session: Session, settings: Settings, video: dict[str, Any]) -> list[str]:
    """Deliveries for the owner's enabled webhooks that subscribe to this event; their ids."""
    event_type = f"video.{video['status']}"
    hooks = session.scalars(
        select(Webhook).where(Webhook.owner_id == video["owner_id"], Webhook.enabled.is_(True))
    )
    now, ids = utcnow(), []
    # the message sent after the commit covers it; if that is lost, the reconciler sends it then
    resend_after = timedelta(seconds=settings.webhook_resend_after_seconds)
    body = payload(event_type, video, settings)
    for hook in hooks:
        if event_type not in hook.events.split(","):
            continue
        delivery = WebhookDelivery(
            id=f"msg_{uuid.uuid4().hex}", webhook_id=hook.id, event_type=event_type,
            video_id=video["id"], payload=body, status="pending", attempts=0,
            next_attempt_at=now + resend_after, created_at=now,
        )  # fmt: skip
        session.add(delivery)
        ids.append(delivery.id)
    return ids


class Outbox:
    """What JobStore uses: `record` inside the terminal transaction, `send` after its commit.
    A send that fails is logged; the reconciler sends the delivery after
    WEBHOOK_RESEND_AFTER_SECONDS."""

    def __init__(self, settings: Settings, publisher: JobPublisher) -> None:
        self.settings, self.publisher = settings, publisher

    def record(self, session: Session, video: dict[str, Any]) -> list[str]:
        return record(session, self.settings, video)

    def send(self, delivery_ids: list[str]) -> None:
        for delivery_id in delivery_ids:
            try:
                self.publisher.send(deliver_webhook_message(delivery_id))
            except Exception as exc:  # noqa: BLE001 - the reconciler re-sends it
                log.warning("webhook delivery %s not sent (%s): left to the reconciler",
                            delivery_id, exc)  # fmt: skip
