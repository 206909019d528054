"""Webhooks for their owner: create (the target checked, the secret made and shown once), list,
delete, and the delivery log."""

from __future__ import annotations

import base64
import secrets

import anyio
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import BadRequest, Conflict, Forbidden, NotFound
from app.pagination import Page
from app.webhooks.schemas import DeliveryOut, WebhookCreate, WebhookCreated, WebhookOut
from core.models import User, Webhook, WebhookDelivery
from core.settings import Settings
from core.webhooks.targets import TargetRefused, resolve

NOT_FOUND = "Webhook not found"


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def out(hook: Webhook) -> WebhookOut:
    return WebhookOut(
        id=hook.id,
        url=hook.url,
        events=hook.events.split(","),  # type: ignore[arg-type]
        enabled=hook.enabled,
        disabled_reason=hook.disabled_reason,
        consecutive_failures=hook.consecutive_failures,
        created_at=hook.created_at,
    )


async def create(
    session: AsyncSession, settings: Settings, owner: User, body: WebhookCreate
) -> WebhookCreated:
    try:
        await anyio.to_thread.run_sync(resolve, body.url, settings)  # DNS: off the event loop
    except TargetRefused as exc:
        raise BadRequest(f"Webhook URL refused: {exc}") from None
    count = await session.scalar(select(func.count()).where(Webhook.owner_id == owner.id))
    if settings.webhooks_max_per_user and (count or 0) >= settings.webhooks_max_per_user:
        raise Conflict(f"At most {settings.webhooks_max_per_user} webhooks per user")
    hook = Webhook(owner_id=owner.id, url=body.url, events=",".join(dict.fromkeys(body.events)),
                   secret=new_secret(), enabled=True, consecutive_failures=0)  # fmt: skip
    session.add(hook)
    await session.flush()
    return WebhookCreated(**out(hook).model_dump(), secret=hook.secret)


async def owned(session: AsyncSession, owner: User, webhook_id: int) -> Webhook:
    hook = await session.get(Webhook, webhook_id)
    if hook is None:
        raise NotFound(NOT_FOUND)
    if hook.owner_id != owner.id:
        raise Forbidden("You are not authorized to access this webhook")
    return hook


async def list_webhooks(session: AsyncSession, owner: User) -> list[WebhookOut]:
    hooks = await session.scalars(
        select(Webhook).where(Webhook.owner_id == owner.id).order_by(Webhook.id)
    )
    return [out(h) for h in hooks]


async def delete(session: AsyncSession, owner: User, webhook_id: int) -> None:
    await session.delete(await owned(session, owner, webhook_id))


async def deliveries(
    session: AsyncSession, owner: User, webhook_id: int, page: Page
) -> tuple[list[DeliveryOut], int]:
    await owned(session, owner, webhook_id)
    where = WebhookDelivery.webhook_id == webhook_id
    total = await session.scalar(select(func.count()).where(where)) or 0
    rows = await session.scalars(
        select(WebhookDelivery).where(where)
        .order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id)
        .limit(page.limit).offset(page.offset)
    )  # fmt: skip
    return [DeliveryOut.model_validate(r, from_attributes=True) for r in rows], total
