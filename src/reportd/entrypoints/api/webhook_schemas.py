"""Pydantic models of the webhook API, and the body a delivery carries (the report resource)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field

from reportd.domain.models import Report
from reportd.domain.webhooks import Delivery, Webhook
from reportd.entrypoints.api.schemas import ReportPublic


def report_body(report: Report) -> str:
    """What a delivery POSTs: exactly ``GET /v1/reports/{id}``'s JSON at the final state."""
    return orjson.dumps(ReportPublic.of(report).model_dump(mode="json")).decode()


class WebhookCreate(BaseModel):
    """Only the shape here; the service checks the URL and the event names."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=1, max_length=2000)
    events: list[str] = Field(min_length=1, max_length=10)
    signature: Signature | None = Field(
        default=None,
        description="The headers deliveries are signed with; the server's default (`both`) "
        "when left out.",
    )


class WebhookUpdate(BaseModel):
    """What a subscription may change after creation: its signing scheme (same secret)."""

    model_config = ConfigDict(extra="forbid")

    signature: Signature


# reportd: Reportd-Signature; standard: webhook-id, webhook-timestamp, webhook-signature.
Signature = Literal["reportd", "standard", "both"]


class WebhookLinks(BaseModel):
    self: str
    deliveries: str


class WebhookPublic(BaseModel):
    id: str
    url: str
    events: list[str]
    enabled: bool
    signature: str
    created_at: datetime | None
    links: WebhookLinks

    @classmethod
    def of(cls, webhook: Webhook) -> WebhookPublic:
        return cls(**_public_fields(webhook))


class WebhookCreated(WebhookPublic):
    """The subscription as created: the only answer that carries its signing ``secret``."""

    secret: str

    @classmethod
    def of(cls, webhook: Webhook) -> WebhookCreated:
        return cls(**_public_fields(webhook), secret=webhook.secret)


class WebhooksPublic(BaseModel):
    results: list[WebhookPublic]
    total_count: int


class DeliveryPublic(BaseModel):
    id: str
    webhook_id: str | None
    report_id: str
    event: str
    url: str
    state: str
    attempts: int
    next_attempt_at: datetime | None
    last_status: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None

    @classmethod
    def of(cls, delivery: Delivery) -> DeliveryPublic:
        return cls(
            id=delivery.id,
            webhook_id=delivery.webhook_id,
            report_id=delivery.report_id,
            event=delivery.event,
            url=delivery.url,
            state=delivery.state,
            attempts=delivery.attempts,
            next_attempt_at=delivery.next_attempt_at,
            last_status=delivery.last_status,
            last_error=delivery.last_error,
            created_at=delivery.created_at,
            delivered_at=delivery.delivered_at,
        )


class DeliveriesPublic(BaseModel):
    results: list[DeliveryPublic]
    total_count: int


class CallbackSecretPublic(BaseModel):
    secret: str


def _public_fields(webhook: Webhook) -> dict[str, object]:
    base = f"/v1/webhooks/{webhook.id}"
    return {
        "id": webhook.id,
        "url": webhook.url,
        "events": list(webhook.events),
        "enabled": webhook.enabled,
        "signature": webhook.signature,
        "created_at": webhook.created_at,
        "links": WebhookLinks(self=base, deliveries=f"{base}/deliveries"),
    }
