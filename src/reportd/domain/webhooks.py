"""Webhook subscriptions and the deliveries of the outbox."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from reportd.domain.webhook_signatures import DEFAULT_SCHEME

__all__ = [
    "ATTEMPT_FAILED",
    "DELIVERED",
    "FAILED",
    "PENDING",
    "REFUSED_BY_POLICY",
    "ClaimedDelivery",
    "Delivery",
    "DeliveryPage",
    "Webhook",
]

# A delivery's states: pending (to try, maybe again), delivered, failed (for good).
PENDING = "pending"
DELIVERED = "delivered"
FAILED = "failed"

# The only two reasons a tenant's delivery log gives (``last_error``). What answered (a
# refused connection, a timeout, a TLS or DNS error) is for the operator's log alone:
# told to the tenant, it makes the dispatcher a port scanner of the operator's network.
# ``last_status`` still shows the HTTP status of an answer the policy let it reach.
REFUSED_BY_POLICY = "refused by policy"
ATTEMPT_FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Webhook:
    """A tenant's subscription; ``secret`` signs its deliveries and leaves the API once.

    ``signature`` is the scheme its deliveries are signed with (``webhook_signatures.SCHEMES``).
    """

    id: str
    tenant_id: str
    url: str
    events: tuple[str, ...]
    secret: str
    enabled: bool = True
    created_at: datetime | None = None
    signature: str = DEFAULT_SCHEME


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
    signature: str | None = None  # the subscription's scheme; None: the server's default


@dataclass(frozen=True, slots=True)
class DeliveryPage:
    results: list[Delivery]
    total_count: int
