"""Webhook subscription routes: parse, call the webhook service, shape the answer."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from reportd.app.webhooks import WebhookService
from reportd.domain.errors import Unavailable
from reportd.domain.models import Principal
from reportd.domain.paging import MAX_PAGE
from reportd.entrypoints.api.auth import core_of, principal
from reportd.entrypoints.api.schemas import MAX_OFFSET, ErrorBody
from reportd.entrypoints.api.webhook_schemas import (
    CallbackSecretPublic,
    DeliveriesPublic,
    DeliveryPublic,
    WebhookCreate,
    WebhookCreated,
    WebhookPublic,
    WebhooksPublic,
    WebhookUpdate,
)

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])
Caller = Annotated[Principal, Depends(principal)]
_ERRORS: dict[int | str, dict[str, object]] = {
    code: {"model": ErrorBody} for code in (400, 401, 403, 404, 413, 422, 429, 503)
}


def _webhooks(request: Request) -> WebhookService:
    hooks = core_of(request).webhooks
    if hooks is None:
        raise Unavailable("webhooks are not configured on this server")
    return hooks


@router.post("", status_code=201, response_model=WebhookCreated, responses=_ERRORS)
def create_webhook(
    body: WebhookCreate, caller: Caller, request: Request, response: Response
) -> WebhookCreated:
    webhook = _webhooks(request).subscribe(caller, body.url, body.events, body.signature)
    response.headers["Location"] = f"/v1/webhooks/{webhook.id}"
    return WebhookCreated.of(webhook)


@router.get("", response_model=WebhooksPublic, responses=_ERRORS)
def list_webhooks(caller: Caller, request: Request) -> WebhooksPublic:
    found = _webhooks(request).list(caller)
    return WebhooksPublic(results=[WebhookPublic.of(w) for w in found], total_count=len(found))


# Declared before /{webhook_id} so the path is not taken for an id.
@router.get("/callback_secret", response_model=CallbackSecretPublic, responses=_ERRORS)
def callback_secret(caller: Caller, request: Request) -> CallbackSecretPublic:
    return CallbackSecretPublic(secret=_webhooks(request).callback_secret(caller))


@router.get("/{webhook_id}", response_model=WebhookPublic, responses=_ERRORS)
def get_webhook(webhook_id: str, caller: Caller, request: Request) -> WebhookPublic:
    return WebhookPublic.of(_webhooks(request).get(caller, webhook_id))


@router.patch("/{webhook_id}", response_model=WebhookPublic, responses=_ERRORS)
def update_webhook(
    webhook_id: str, body: WebhookUpdate, caller: Caller, request: Request
) -> WebhookPublic:
    return WebhookPublic.of(_webhooks(request).set_signature(caller, webhook_id, body.signature))


@router.delete("/{webhook_id}", status_code=204, responses=_ERRORS)
def delete_webhook(webhook_id: str, caller: Caller, request: Request) -> Response:
    _webhooks(request).delete(caller, webhook_id)
    return Response(status_code=204)


@router.get("/{webhook_id}/deliveries", response_model=DeliveriesPublic, responses=_ERRORS)
def webhook_deliveries(
    webhook_id: str,
    caller: Caller,
    request: Request,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> DeliveriesPublic:
    page = _webhooks(request).deliveries(caller, webhook_id, limit=limit, offset=offset)
    return DeliveriesPublic(
        results=[DeliveryPublic.of(d) for d in page.results], total_count=page.total_count
    )
