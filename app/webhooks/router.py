"""Routes /api/webhooks: create (the secret shown once), list, delete, the delivery log."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from app.deps import CurrentUser, SessionDep, SettingsDep
from app.openapi import TOTAL_COUNT, errors, with_headers
from app.pagination import PageDep, set_total
from app.params import WebhookId
from app.webhooks import service
from app.webhooks.schemas import (
    DeliveryOut,
    WebhookCreate,
    WebhookCreated,
    WebhookDeleted,
    WebhookOut,
)

router = APIRouter(prefix="/api/webhooks", tags=["webhooks"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=WebhookCreated,
    responses=errors(400, 401, 409, 422),
    summary="Add a signed webhook (Standard Webhooks); its secret is shown only in this answer",
)
async def create_webhook(
    body: WebhookCreate, user: CurrentUser, session: SessionDep, settings: SettingsDep
) -> WebhookCreated:
    return await service.create(session, settings, user, body)


@router.get("", response_model=list[WebhookOut], responses=errors(401))
async def list_webhooks(user: CurrentUser, session: SessionDep) -> list[WebhookOut]:
    return await service.list_webhooks(session, user)


@router.delete("/{webhook_id:int}", response_model=WebhookDeleted, responses=errors(401, 403, 404))
async def delete_webhook(
    webhook_id: WebhookId, user: CurrentUser, session: SessionDep
) -> WebhookDeleted:
    await service.delete(session, user, webhook_id)
    return WebhookDeleted(id=webhook_id)


@router.get(
    "/{webhook_id:int}/deliveries",
    response_model=list[DeliveryOut],
    responses={200: with_headers(None, TOTAL_COUNT), **errors(400, 401, 403, 404)},
    summary="The delivery log: status, attempts, last response code, next attempt",
)
async def list_deliveries(
    webhook_id: WebhookId, user: CurrentUser, session: SessionDep, page: PageDep,
    response: Response,
) -> list[DeliveryOut]:  # fmt: skip
    rows, total = await service.deliveries(session, user, webhook_id, page)
    set_total(response, total)
    return rows
