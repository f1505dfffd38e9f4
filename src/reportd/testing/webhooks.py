"""Webhook subscriptions and the delivery outbox in memory, deliveries leased like reports."""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta

from reportd.domain.errors import NotFound, ReportNotFound
from reportd.domain.webhooks import (
    ATTEMPT_FAILED,
    DELIVERED,
    FAILED,
    PENDING,
    ClaimedDelivery,
    Delivery,
    DeliveryPage,
    Webhook,
)
from reportd.testing._state import DeliveryRow, MemoryState, ReportRow

_ERROR_CHARS = 500


class MemoryWebhooks:
    """The ``WebhookRepository`` port in memory."""

    def __init__(self, state: MemoryState) -> None:
        self._state = state

    # -- subscriptions -------------------------------------------------------------------

    def create(self, webhook: Webhook) -> Webhook:
        with self._state.lock:
            stored = replace(webhook, created_at=webhook.created_at or self._state.now())
            self._state.webhooks[stored.id] = stored
            return stored

    def count(self, tenant_id: str) -> int:
        return len(self.list_for_tenant(tenant_id))

    def list_for_tenant(self, tenant_id: str) -> builtins.list[Webhook]:
        with self._state.lock:
            mine = [w for w in self._state.webhooks.values() if w.tenant_id == tenant_id]
        return sorted(mine, key=lambda w: (w.created_at or self._state.now(), w.id))

    def get(self, webhook_id: str, tenant_id: str) -> Webhook:
        with self._state.lock:
            found = self._state.webhooks.get(webhook_id)
        if found is None or found.tenant_id != tenant_id:
            raise NotFound(f"webhook {webhook_id!r} not found")
        return found

    def delete(self, webhook_id: str, tenant_id: str) -> None:
        with self._state.lock:
            self.get(webhook_id, tenant_id)
            for delivery_id, row in list(self._state.deliveries.items()):
                if row.delivery.webhook_id == webhook_id:
                    del self._state.deliveries[delivery_id]
            del self._state.webhooks[webhook_id]

    def set_signature(self, webhook_id: str, tenant_id: str, signature: str) -> Webhook:
        with self._state.lock:
            changed = replace(self.get(webhook_id, tenant_id), signature=signature)
            self._state.webhooks[webhook_id] = changed
            return changed

    def deliveries(
        self, webhook_id: str, tenant_id: str, *, limit: int, offset: int
    ) -> DeliveryPage:
        with self._state.lock:
            self.get(webhook_id, tenant_id)
            mine = [
                row.delivery
                for row in self._state.deliveries.values()
                if row.delivery.webhook_id == webhook_id and row.delivery.tenant_id == tenant_id
            ]
        mine.sort(key=lambda d: (d.created_at, d.id), reverse=True)
        return DeliveryPage(results=mine[offset : offset + limit], total_count=len(mine))

    # -- the outbox ----------------------------------------------------------------------

    def enqueue_due(
        self,
        event_of: Mapping[str, str],
        payload_of: Callable[[str], str],
        *,
        limit: int = 100,
    ) -> int:
        with self._state.lock:
            due = [
                row
                for row in self._state.reports.values()
                if row.report.state.value in event_of
                and row.notified_state != row.report.state.value
            ]
            due.sort(key=lambda row: (row.updated_at, row.report.id))
            made = 0
            for row in due[:limit]:
                made += self._notify(row, event_of[row.report.state.value], payload_of)
            return made

    def _notify(self, row: ReportRow, event: str, payload_of: Callable[[str], str]) -> int:
        """The report's deliveries for ``event``; its state counts as notified either way."""
        report = row.report
        row.notified_state = report.state.value
        targets: list[tuple[str | None, str]] = [
            (w.id, w.url)
            for w in self.list_for_tenant(report.tenant_id)
            if w.enabled and event in w.events
        ]
        if report.callback_url:
            targets.append((None, report.callback_url))
        if not targets:
            return 0
        state, error = PENDING, None
        try:
            payload = payload_of(report.id)
        except ReportNotFound:
            return 0
        except Exception:  # one report that cannot be rendered must not hold up the batch
            payload, state, error = "", FAILED, ATTEMPT_FAILED
        now = self._state.now()
        for webhook_id, url in targets:
            delivery = Delivery(
                id=str(uuid.uuid4()),
                tenant_id=report.tenant_id,
                webhook_id=webhook_id,
                report_id=report.id,
                event=event,
                url=url,
                payload=payload,
                state=state,
                attempts=0,
                next_attempt_at=now if state == PENDING else None,
                last_status=None,
                last_error=error,
                created_at=now,
                delivered_at=None,
            )
            self._state.deliveries[delivery.id] = DeliveryRow(delivery)
        return len(targets)

    # -- the delivery queue --------------------------------------------------------------

    def claim(self, owner: str, lease_seconds: float) -> ClaimedDelivery | None:
        with self._state.lock:
            now = self._state.now()
            free = [
                row
                for row in self._state.deliveries.values()
                if row.delivery.state == PENDING
                and row.delivery.next_attempt_at is not None
                and row.delivery.next_attempt_at <= now
                and (row.lease_expires_at is None or row.lease_expires_at < now)
            ]
            if not free:
                return None
            row = min(free, key=lambda r: (r.delivery.next_attempt_at or now, r.delivery.id))
            row.lease_owner = owner
            row.lease_expires_at = now + timedelta(seconds=lease_seconds)
            webhook = self._state.webhooks.get(row.delivery.webhook_id or "")
            if webhook is None:
                return ClaimedDelivery(row.delivery, None)
            return ClaimedDelivery(row.delivery, webhook.secret, webhook.signature)

    def mark_delivered(self, delivery_id: str, owner: str, status: int) -> bool:
        now = self._state.now()
        return self._settle(
            delivery_id,
            owner,
            state=DELIVERED,
            last_status=status,
            delivered_at=now,
            next_attempt_at=None,
        )

    def mark_attempt_failed(
        self,
        delivery_id: str,
        owner: str,
        *,
        status: int | None,
        error: str,
        retry_at: datetime | None,
    ) -> bool:
        return self._settle(
            delivery_id,
            owner,
            state=PENDING if retry_at is not None else FAILED,
            last_status=status,
            last_error=error[:_ERROR_CHARS],
            next_attempt_at=retry_at,
        )

    def _settle(self, delivery_id: str, owner: str, **values: object) -> bool:
        """Record an attempt, only while holding the lease (a stale worker changes nothing)."""
        with self._state.lock:
            row = self._state.deliveries.get(delivery_id)
            if row is None or row.lease_owner != owner or row.delivery.state != PENDING:
                return False
            attempts = row.delivery.attempts + 1
            row.delivery = replace(row.delivery, attempts=attempts, **values)  # type: ignore[arg-type]
            row.lease_owner = None
            row.lease_expires_at = None
            return True
