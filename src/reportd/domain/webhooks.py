"""Webhook subscriptions and the deliveries of the outbox."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

__all__ = [
    "DELIVERED",
    "FAILED",
    "PENDING",
    "ClaimedDelivery",
    "Delivery",
    "DeliveryPage",
    "Webhook",
]

# A delivery's states: pending (to try, maybe again), delivered, failed (for good).
PENDING = "pending"
DELIVERED = "delivered"
FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Webhook:
    """A tenant's subscription; ``secret`` signs its deliveries and leaves the API once."""

    id: str
    tenant_id: str
    url: str
    events: tuple[str, ...]
    secret: str
    enabled: bool = True
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Delivery:
    """One event for one URL; ``webhook_id`` None means the report's own ``callback_url``."""

    id: str
    tenant_id: str
    webhook_id: str | None
    report_id: str
    event: str
    url: str
    payload: str
    state: str
    attempts: int
    next_attempt_at: datetime | None
    last_status: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None


@dataclass(frozen=True, slots=True)
class ClaimedDelivery:
    delivery: Delivery
    secret: str | None  # the subscription's; None for a callback or a deleted subscription


@dataclass(frozen=True, slots=True)
class DeliveryPage:
    results: list[Delivery]
    total_count: int
