"""Destinations and the report deliveries' leased queue in memory, as the SQL store keeps them."""

from __future__ import annotations

import builtins
import uuid
from dataclasses import replace
from datetime import datetime, timedelta

from reportd.domain.destinations import (
    ClaimedReportDelivery,
    DeliveryState,
    Destination,
    ReportDelivery,
)
from reportd.domain.errors import DestinationNotFound
from reportd.domain.webhooks import PENDING, Delivery
from reportd.testing._state import DeliveryRow, MemoryState, ReportRow, in_utc


class MemoryDestinations:
    """The ``DestinationRepository`` port in memory."""

    def __init__(self, state: MemoryState) -> None:
        self._state = state

    def create(self, destination: Destination) -> Destination:
        with self._state.lock:
            now = self._state.now()
            stored = replace(
                destination,
                created_at=destination.created_at or now,
                updated_at=destination.updated_at or now,
                config=dict(destination.config),
            )
            self._state.destinations[stored.id] = in_utc(stored)
            return stored

    def count(self, tenant_id: str) -> int:
        return len(self.list_for_tenant(tenant_id))

    def list_for_tenant(self, tenant_id: str) -> builtins.list[Destination]:
        with self._state.lock:
            mine = [d for d in self._state.destinations.values() if d.tenant_id == tenant_id]
        return sorted(mine, key=lambda d: (d.created_at or self._state.now(), d.id))

    def get(self, destination_id: str, tenant_id: str) -> Destination:
        with self._state.lock:
            found = self._state.destinations.get(destination_id)
        if found is None or found.tenant_id != tenant_id:
            raise DestinationNotFound(f"destination {destination_id!r} not found")
        return replace(found, config=dict(found.config))

    def update(self, destination: Destination) -> Destination:
        with self._state.lock:
            current = self.get(destination.id, destination.tenant_id)
            stored = replace(
                destination,
                type=current.type,
                created_at=current.created_at,
                updated_at=self._state.now(),
                config=dict(destination.config),
            )
            self._state.destinations[stored.id] = in_utc(stored)
            return stored

    def delete(self, destination_id: str, tenant_id: str) -> None:
        with self._state.lock:
            self.get(destination_id, tenant_id)
            del self._state.destinations[destination_id]


class MemoryDeliveryQueue:
    """The ``DeliveryQueue`` port in memory; deliveries live on their reports' rows."""

    def __init__(self, state: MemoryState) -> None:
        self._state = state

    def claim(self, owner: str, lease_seconds: float) -> ClaimedReportDelivery | None:
        with self._state.lock:
            now = self._state.now()
            due = [
                (d.next_attempt_at, d.report_id, d.destination_id, row)
                for row in self._state.reports.values()
                if row.report.state.is_final
                for d in row.report.deliveries
                if self._claimable(d, now)
            ]
            if not due:
                return None
            due.sort(key=lambda item: item[:3])
            _, report_id, destination_id, row = due[0]
            key = (report_id, destination_id)
            self._state.delivery_leases[key] = (owner, now + timedelta(seconds=lease_seconds))
            delivery = _find(row, destination_id)
            return ClaimedReportDelivery(delivery=delivery, report_state=row.report.state.value)

    def _claimable(self, delivery: ReportDelivery, now: datetime) -> bool:
        if delivery.state is not DeliveryState.PENDING:
            return False
        if delivery.next_attempt_at is None or delivery.next_attempt_at > now:
            return False
        lease = self._state.delivery_leases.get((delivery.report_id, delivery.destination_id))
        return lease is None or lease[1] < now

    def renew(self, report_id: str, destination_id: str, owner: str, lease_seconds: float) -> bool:
        key = (report_id, destination_id)
        with self._state.lock:
            row = self._state.reports.get(report_id)
            lease = self._state.delivery_leases.get(key)
            if row is None or lease is None or lease[0] != owner:
                return False
            if _find(row, destination_id).state is not DeliveryState.PENDING:
                return False
            expires = self._state.now() + timedelta(seconds=lease_seconds)
            self._state.delivery_leases[key] = (owner, expires)
            return True

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
        key = (report_id, destination_id)
        with self._state.lock:
            row = self._state.reports.get(report_id)
            lease = self._state.delivery_leases.get(key)
            if row is None or lease is None or lease[0] != owner:
                return False
            current = _find(row, destination_id)
            if current.state is not DeliveryState.PENDING:
                return False
            now = self._state.now()
            settled = replace(
                current,
                state=state,
                attempts=current.attempts + 1,
                last_error=error if error is not None else current.last_error,
                next_attempt_at=retry_at if state is DeliveryState.PENDING else None,
                delivered_at=now if state is DeliveryState.DELIVERED else current.delivered_at,
            )
            row.report = row.report.evolve(
                deliveries=tuple(
                    in_utc(settled) if d.destination_id == destination_id else d
                    for d in row.report.deliveries
                )
            )
            del self._state.delivery_leases[key]
            if event is not None:
                self._enqueue_event(row.report.tenant_id, report_id, event, now)
            return True

    def _enqueue_event(
        self, tenant_id: str, report_id: str, event: tuple[str, str], now: datetime
    ) -> None:
        name, payload = event
        for webhook in self._state.webhooks.values():
            if webhook.tenant_id != tenant_id or not webhook.enabled or name not in webhook.events:
                continue
            delivery = Delivery(
                id=str(uuid.uuid4()),
                tenant_id=tenant_id,
                webhook_id=webhook.id,
                report_id=report_id,
                event=name,
                url=webhook.url,
                payload=payload,
                state=PENDING,
                attempts=0,
                next_attempt_at=now,
                last_status=None,
                last_error=None,
                created_at=now,
                delivered_at=None,
            )
            self._state.deliveries[delivery.id] = DeliveryRow(delivery=delivery)


def _find(row: ReportRow, destination_id: str) -> ReportDelivery:
    for delivery in row.report.deliveries:
        if delivery.destination_id == destination_id:
            return delivery
    raise DestinationNotFound(f"no delivery to {destination_id!r}")
