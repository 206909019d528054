"""One delivery attempt, signed with the `standardwebhooks` library (webhook-id,
webhook-timestamp, webhook-signature: v1,<base64 HMAC-SHA256>).

The attempt is claimed with a lease (two messages for one delivery never both send); the target
is resolved and checked (core/webhooks/targets.py) and the request goes to the checked address;
redirects are not followed; timeouts are short; at most 1 KB of the response is kept. A failure
is scheduled again by WEBHOOK_RETRY_SCHEDULE_SECONDS (jittered) until WEBHOOK_GIVE_UP_SECONDS
after the event; an endpoint failing WEBHOOK_DISABLE_AFTER_FAILURES times in a row, or for
WEBHOOK_GIVE_UP_SECONDS, is disabled with the reason recorded for its owner."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker
from standardwebhooks import Webhook as Signer

from core.models import Webhook, WebhookDelivery, as_utc, utcnow
from core.settings import Settings
from core.webhooks.targets import Target, TargetRefused, resolve

LEASE = timedelta(seconds=60)
KEEP_RESPONSE_BYTES = 1024
JITTER = 0.2
USER_AGENT = "reelforge-webhooks/1"


@dataclass(frozen=True)
class Claimed:
    delivery_id: str
    payload: str
    attempts: int
    created_at: datetime
    url: str
    secret: str
    enabled: bool


@dataclass(frozen=True)
class Result:
    ok: bool
    status_code: int | None = None
    error: str | None = None
    body: str | None = None
    retry: bool = True  # False: no later attempt can succeed (the target is refused)


def claim(sessions: sessionmaker[Session], delivery_id: str) -> Claimed | None:
    now = utcnow()
    with sessions.begin() as session:
        row = session.execute(
            update(WebhookDelivery)
            .where(
                WebhookDelivery.id == delivery_id,
                WebhookDelivery.status == "pending",
                or_(WebhookDelivery.lease_until.is_(None), WebhookDelivery.lease_until < now),
            )
            .values(lease_until=now + LEASE, attempts=WebhookDelivery.attempts + 1)
            .returning(
                WebhookDelivery.payload,
                WebhookDelivery.attempts,
                WebhookDelivery.created_at,
                WebhookDelivery.webhook_id,
            )  # fmt: skip
        ).one_or_none()
        if row is None:
            return None  # delivered, given up, or another attempt holds it
        hook = session.get(Webhook, row.webhook_id)
        if hook is None:
            return None
        return Claimed(delivery_id, row.payload, row.attempts, as_utc(row.created_at),
                       hook.url, hook.secret, hook.enabled)  # fmt: skip


def _url_for(target: Target) -> tuple[str, dict[str, str], dict[str, str]]:
    """The request goes to the checked address; Host and TLS SNI stay the URL's host."""
    parts = httpx.URL(target.url)
    host = f"[{target.address}]" if ":" in target.address else target.address
    url = str(parts.copy_with(host=host.strip("[]"), port=target.port))
    default = 443 if target.scheme == "https" else 80
    host_header = target.host if target.port == default else f"{target.host}:{target.port}"
    extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
    return url, {"Host": host_header}, extensions


def send(claimed: Claimed, settings: Settings) -> Result:
    try:
        target = resolve(claimed.url, settings)
    except TargetRefused as exc:
        return Result(False, error=str(exc), retry="does not resolve" in str(exc))
    timestamp = datetime.now().astimezone()
    signature = Signer(claimed.secret).sign(claimed.delivery_id, timestamp, claimed.payload)
    url, headers, extensions = _url_for(target)
    headers.update({
        "webhook-id": claimed.delivery_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": signature,
        "content-type": "application/json",
        "user-agent": USER_AGENT,
    })  # fmt: skip
    timeout = httpx.Timeout(settings.webhook_timeout_seconds, connect=3.0)
    try:
        with (
            httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False) as http,
            http.stream(
                "POST", url, content=claimed.payload, headers=headers, extensions=extensions
            ) as response,  # fmt: skip
        ):
            kept = bytearray()
            for chunk in response.iter_bytes():
                kept += chunk[: KEEP_RESPONSE_BYTES - len(kept)]
                if len(kept) >= KEEP_RESPONSE_BYTES:
                    break
            body = kept.decode("utf-8", "replace")
            code = response.status_code
    except httpx.HTTPError as exc:
        return Result(False, error=f"{type(exc).__name__}: {exc}"[:500] or type(exc).__name__)
    if 200 <= code < 300:
        return Result(True, code, body=body)
    reason = "redirects are not followed" if 300 <= code < 400 else "not a 2xx answer"
    return Result(False, code, error=f"HTTP {code} ({reason})", body=body)


def next_attempt(claimed: Claimed, settings: Settings, now: datetime) -> datetime | None:
    schedule = settings.webhook_retry_schedule_seconds
    if claimed.attempts > len(schedule):
        return None
    delay = schedule[claimed.attempts - 1] * random.uniform(1 - JITTER, 1 + JITTER)  # noqa: S311
    when = now + timedelta(seconds=delay)
    if when > claimed.created_at + timedelta(seconds=settings.webhook_give_up_seconds):
        return None
    return when


def record(sessions: sessionmaker[Session], settings: Settings, claimed: Claimed,
           result: Result) -> str:  # fmt: skip
    """Store the attempt's outcome on the delivery and its endpoint; the delivery's status."""
    now = utcnow()
    with sessions.begin() as session:
        delivery = session.get(WebhookDelivery, claimed.delivery_id)
        hook = None if delivery is None else session.get(Webhook, delivery.webhook_id)
        if delivery is None or hook is None:
            return "gone"
        delivery.last_status_code, delivery.last_error = result.status_code, result.error
        delivery.last_response, delivery.lease_until = result.body, None
        if result.ok:
            delivery.status, delivery.delivered_at, delivery.next_attempt_at = (
                "delivered",
                now,
                None,
            )
            hook.consecutive_failures, hook.failing_since = 0, None
            return "delivered"
        when = next_attempt(claimed, settings, now) if result.retry else None
        delivery.status = "pending" if when else "failed"
        delivery.next_attempt_at = when
        hook.consecutive_failures += 1
        hook.failing_since = hook.failing_since or now
        failing_for = (now - as_utc(hook.failing_since)).total_seconds()
        if hook.enabled and (
            hook.consecutive_failures >= settings.webhook_disable_after_failures
            or failing_for >= settings.webhook_give_up_seconds
            or not result.retry
        ):
            hook.enabled = False
            hook.disabled_reason = (
                f"Disabled after {hook.consecutive_failures} failed attempts in a row "
                f"({failing_for / 3600:.1f} h failing); last error: {result.error}"
            )
        return delivery.status


def deliver(sessions: sessionmaker[Session], settings: Settings, delivery_id: str) -> str:
    """One attempt at a delivery; what became of it."""
    claimed = claim(sessions, delivery_id)
    if claimed is None:
        return "skipped"
    if not claimed.enabled:
        result = Result(False, error="The webhook is disabled", retry=False)
    else:
        result = send(claimed, settings)
    return record(sessions, settings, claimed, result)


def due(sessions: sessionmaker[Session], settings: Settings, limit: int = 100) -> list[str]:
    """Pending deliveries whose time has come (a retry, or a lost message); each is pushed back
    so the next round does not send it again while its message is in flight."""
    now = utcnow()
    again = timedelta(seconds=settings.webhook_resend_after_seconds)
    with sessions.begin() as session:
        ids = list(
            session.scalars(
                select(WebhookDelivery.id)
                .where(WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= now)
                .order_by(WebhookDelivery.next_attempt_at)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        )
        if ids:
            session.execute(
                update(WebhookDelivery)
                .where(WebhookDelivery.id.in_(ids))
                .values(next_attempt_at=now + again)
            )
    return ids
