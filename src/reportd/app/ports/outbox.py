"""Webhooks and their deliveries, destinations and the report delivery queue: what goes out.

The rules every implementation keeps are written on the methods (see ``reportd.app.ports``).
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Protocol

from reportd.domain.destinations import ClaimedReportDelivery, DeliveryState, Destination
from reportd.domain.webhooks import ClaimedDelivery, DeliveryPage, Webhook

__all__ = ["DeliveryQueue", "DestinationRepository", "WebhookRepository"]


class WebhookRepository(Protocol):
    """Subscriptions, and the outbox of deliveries with its own leased queue."""

    def create(self, webhook: Webhook) -> Webhook: ...

    def count(self, tenant_id: str) -> int: ...

    def list_for_tenant(self, tenant_id: str) -> builtins.list[Webhook]: ...

    def get(self, webhook_id: str, tenant_id: str) -> Webhook:
        """``NotFound`` if absent or another tenant's."""

    def delete(self, webhook_id: str, tenant_id: str) -> None:
        """The subscription and its deliveries."""

    def set_signature(self, webhook_id: str, tenant_id: str, signature: str) -> Webhook:
        """The subscription signed with ``signature`` from its next attempt on; ``NotFound``
        if absent or another tenant's."""

    def deliveries(
        self, webhook_id: str, tenant_id: str, *, limit: int, offset: int
    ) -> DeliveryPage:
        """One subscription's delivery log, newest first."""

    def enqueue_due(
        self,
        event_of: Mapping[str, str],
        payload_of: Callable[[str], str],
        *,
        limit: int = 100,
    ) -> int:
        """Turn reports whose final state was not yet notified into deliveries (one per
        matching enabled subscription, one for a ``callback_url``), each state change once;
        returns how many deliveries were made. One report whose ``payload_of`` raises (other
        than ``ReportNotFound``) never holds up the others: its deliveries are made
        ``failed`` (``last_error`` ``ATTEMPT_FAILED``) and its state counts as notified."""

    def claim(self, owner: str, lease_seconds: float) -> ClaimedDelivery | None:
        """The most overdue pending delivery nobody holds, leased to ``owner``."""

    def mark_delivered(self, delivery_id: str, owner: str, status: int) -> bool:
        """Delivered, only while ``owner`` holds the lease."""

    def mark_attempt_failed(
        self,
        delivery_id: str,
        owner: str,
        *,
        status: int | None,
        error: str,
        retry_at: datetime | None,
    ) -> bool:
        """Pending again from ``retry_at``, or failed for good when it is None."""


class DestinationRepository(Protocol):
    """A tenant's destinations; their secrets arrive sealed and are kept so."""

    def create(self, destination: Destination) -> Destination:
        """Store it; ``created_at`` and ``updated_at`` are set to now unless given."""

    def count(self, tenant_id: str) -> int: ...

    def list_for_tenant(self, tenant_id: str) -> builtins.list[Destination]:
        """Oldest first."""

    def get(self, destination_id: str, tenant_id: str) -> Destination:
        """``DestinationNotFound`` if absent or another tenant's."""

    def update(self, destination: Destination) -> Destination:
        """Replace name, config and secrets; ``DestinationNotFound`` as ``get``."""

    def delete(self, destination_id: str, tenant_id: str) -> None:
        """Gone; deliveries still pending to it fail when next tried."""


class DeliveryQueue(Protocol):
    """Deliveries of reports to destinations, leased like the report queue.

    A report's deliveries are made by ``ReportRepository.insert`` (and a schedule's firing)
    from ``Report.destinations``, in the same transaction, so a report never loses them; they
    come back on every read of the report as ``Report.deliveries``. Every write after
    ``claim`` takes effect only while ``owner`` holds the lease.
    """

    def claim(self, owner: str, lease_seconds: float) -> ClaimedReportDelivery | None:
        """The most overdue pending delivery of a report in a final state, nobody holding it
        (or its holder's lease ran out: a dead worker's delivery is tried again)."""

    def renew(self, report_id: str, destination_id: str, owner: str, lease_seconds: float) -> bool:
        """Extend ``owner``'s lease to ``lease_seconds`` from now while it still holds it (a
        long send keeps its delivery); False when the lease was lost."""

    def settle(
        self,
        report_id: str,
        destination_id: str,
        owner: str,
        *,
        state: DeliveryState,
        error: str | None = None,
        retry_at: datetime | None = None,
        event: tuple[str, str] | None = None,
    ) -> bool:
        """Record one attempt (attempts + 1, the lease let go): ``state`` PENDING retries
        from ``retry_at``. ``event`` (a webhook event and its body) becomes one webhook
        delivery per enabled subscription of the tenant to it, in the same transaction."""
