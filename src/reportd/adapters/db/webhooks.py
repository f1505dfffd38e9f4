"""Webhook subscriptions, and the outbox of deliveries with its own small queue.

The outbox step never touches the code paths that change a report's state: it looks for
reports in a final state whose ``notified_state`` differs from ``state`` and, in one
transaction, inserts their deliveries and sets ``notified_state = state`` (rows locked
``FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLite has one writer at a time). So a state
change becomes deliveries exactly once, however many processes scan, and a crash between
the two halves is impossible. Deliveries are then claimed with a lease, like reports.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, and_, delete, func, insert, or_, select, update

from reportd.adapters.db.database import read_transaction, write_transaction
from reportd.adapters.db.schema import reports, webhook_deliveries, webhooks
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

_ERROR_CHARS = 500


def _now() -> datetime:
    return datetime.now(UTC)


class WebhookStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # -- subscriptions -------------------------------------------------------------------

    def create(self, webhook: Webhook) -> Webhook:
        stored = replace(webhook, created_at=webhook.created_at or _now())
        row = {**_fields(stored), "events": list(stored.events)}
        with write_transaction(self.engine) as conn:
            conn.execute(insert(webhooks).values(**row))
        return stored

    def count(self, tenant_id: str) -> int:
        with read_transaction(self.engine) as conn:
            query = select(func.count()).where(webhooks.c.tenant_id == tenant_id)
            return int(conn.execute(query).scalar_one())

    def list_for_tenant(self, tenant_id: str) -> list[Webhook]:
        query = (
            select(webhooks)
            .where(webhooks.c.tenant_id == tenant_id)
            .order_by(webhooks.c.created_at, webhooks.c.id)
        )
        with read_transaction(self.engine) as conn:
            return [_webhook(row) for row in conn.execute(query).mappings()]

    def get(self, webhook_id: str, tenant_id: str) -> Webhook:
        with read_transaction(self.engine) as conn:
            return _get(conn, webhook_id, tenant_id)

    def delete(self, webhook_id: str, tenant_id: str) -> None:
        """The subscription and its delivery log go together; nothing is sent for it after."""
        with write_transaction(self.engine) as conn:
            _get(conn, webhook_id, tenant_id)
            conn.execute(
                delete(webhook_deliveries).where(webhook_deliveries.c.webhook_id == webhook_id)
            )
            conn.execute(delete(webhooks).where(webhooks.c.id == webhook_id))

    def set_signature(self, webhook_id: str, tenant_id: str, signature: str) -> Webhook:
        w = webhooks.c
        with write_transaction(self.engine) as conn:
            conn.execute(
                update(webhooks)
                .where(w.id == webhook_id, w.tenant_id == tenant_id)
                .values(signature=signature)
            )
            return _get(conn, webhook_id, tenant_id)

    def deliveries(
        self, webhook_id: str, tenant_id: str, *, limit: int, offset: int
    ) -> DeliveryPage:
        """The delivery log of one subscription, newest first."""
        d = webhook_deliveries.c
        where = and_(d.webhook_id == webhook_id, d.tenant_id == tenant_id)
        page = (
            select(webhook_deliveries)
            .where(where)
            .order_by(d.created_at.desc(), d.id.desc())
            .limit(limit)
            .offset(offset)
        )
        with read_transaction(self.engine) as conn:
            _get(conn, webhook_id, tenant_id)
            total = int(conn.execute(select(func.count()).where(where)).scalar_one())
            found = [_delivery(row) for row in conn.execute(page).mappings()]
        return DeliveryPage(results=found, total_count=total)

    # -- the outbox ----------------------------------------------------------------------

    def enqueue_due(
        self,
        event_of: Mapping[str, str],
        payload_of: Callable[[str], str],
        *,
        limit: int = 100,
    ) -> int:
        """Turn up to ``limit`` unnotified final states into deliveries; how many were made.

        ``event_of`` maps a final state to its event; ``payload_of`` renders a report's body
        (it reads committed rows, which nobody can change while this transaction holds them).
        """
        r = reports.c
        due = (
            select(r.id, r.tenant_id, r.state, r.callback_url)
            .where(
                r.state.in_(list(event_of)),
                or_(r.notified_state.is_(None), r.notified_state != r.state),
            )
            .order_by(r.updated_at, r.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        with write_transaction(self.engine) as conn:
            rows = conn.execute(due).mappings().all()
            if not rows:
                return 0
            subscriptions = _enabled_subscriptions(conn, {row["tenant_id"] for row in rows})
            made: list[dict[str, Any]] = []
            for row in rows:
                made.extend(_deliveries_for(row, event_of[row["state"]], subscriptions, payload_of))
                conn.execute(
                    update(reports)
                    .where(r.id == row["id"], r.state == row["state"])
                    .values(notified_state=row["state"])
                )
            if made:
                conn.execute(insert(webhook_deliveries), made)
        return len(made)

    # -- the delivery queue --------------------------------------------------------------

    def claim(self, owner: str, lease_seconds: float) -> ClaimedDelivery | None:
        """The most overdue pending delivery nobody holds, leased to ``owner``."""
        now = _now()
        d = webhook_deliveries.c
        free = or_(d.lease_expires_at.is_(None), d.lease_expires_at < now)
        oldest = (
            select(d.id)
            .where(d.state == PENDING, d.next_attempt_at <= now, free)
            .order_by(d.next_attempt_at, d.id)
            .limit(1)
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        claim = (
            update(webhook_deliveries)
            .where(d.id == oldest, d.state == PENDING, free)
            .values(lease_owner=owner, lease_expires_at=now + timedelta(seconds=lease_seconds))
            .returning(d.id)
        )
        with write_transaction(self.engine) as conn:
            claimed = conn.execute(claim).scalar_one_or_none()
            if claimed is None:
                return None
            joined = (
                select(webhook_deliveries, webhooks.c.secret, webhooks.c.signature)
                .select_from(webhook_deliveries.outerjoin(webhooks, webhooks.c.id == d.webhook_id))
                .where(d.id == claimed)
            )
            row = conn.execute(joined).mappings().one()
        return ClaimedDelivery(
            delivery=_delivery(row), secret=row["secret"], signature=row["signature"]
        )

    def mark_delivered(self, delivery_id: str, owner: str, status: int) -> bool:
        """Delivered; ``last_error`` keeps the last failure, so the log shows why it retried."""
        now = _now()
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
        """Back to pending until ``retry_at``, or ``failed`` for good when it is None."""
        return self._settle(
            delivery_id,
            owner,
            state=PENDING if retry_at is not None else FAILED,
            last_status=status,
            last_error=error[:_ERROR_CHARS],
            next_attempt_at=retry_at,
        )

    def _settle(self, delivery_id: str, owner: str, **values: Any) -> bool:
        """Record an attempt, only while holding the lease (a stale worker changes nothing)."""
        d = webhook_deliveries.c
        held = and_(d.id == delivery_id, d.lease_owner == owner, d.state == PENDING)
        with write_transaction(self.engine) as conn:
            result = conn.execute(
                update(webhook_deliveries)
                .where(held)
                .values(attempts=d.attempts + 1, lease_owner=None, lease_expires_at=None, **values)
            )
        return result.rowcount == 1


def _get(conn: Connection, webhook_id: str, tenant_id: str) -> Webhook:
    query = select(webhooks).where(webhooks.c.id == webhook_id, webhooks.c.tenant_id == tenant_id)
    row = conn.execute(query).mappings().first()
    if row is None:
        raise NotFound(f"webhook {webhook_id!r} not found")
    return _webhook(row)


def _enabled_subscriptions(conn: Connection, tenants: set[str]) -> list[Webhook]:
    query = select(webhooks).where(webhooks.c.tenant_id.in_(tenants), webhooks.c.enabled.is_(True))
    return [_webhook(row) for row in conn.execute(query).mappings()]


def _deliveries_for(
    report: Any, event: str, subscriptions: Sequence[Webhook], payload_of: Callable[[str], str]
) -> list[dict[str, Any]]:
    targets: list[tuple[str | None, str]] = [
        (s.id, s.url)
        for s in subscriptions
        if s.tenant_id == report["tenant_id"] and event in s.events
    ]
    if report["callback_url"]:
        targets.append((None, report["callback_url"]))
    if not targets:
        return []
    state, error = PENDING, None
    try:
        payload = payload_of(report["id"])
    except ReportNotFound:
        return []
    except Exception:  # one report that cannot be rendered must not hold up the batch
        payload, state, error = "", FAILED, ATTEMPT_FAILED
    now = _now()
    return [
        {
            "id": str(uuid.uuid4()),
            "tenant_id": report["tenant_id"],
            "webhook_id": webhook_id,
            "report_id": report["id"],
            "event": event,
            "url": url,
            "payload": payload,
            "state": state,
            "attempts": 0,
            "next_attempt_at": now if state == PENDING else None,
            "last_error": error,
            "created_at": now,
        }
        for webhook_id, url in targets
    ]


def _fields(webhook: Webhook) -> dict[str, Any]:
    return {
        "id": webhook.id,
        "tenant_id": webhook.tenant_id,
        "url": webhook.url,
        "events": webhook.events,
        "secret": webhook.secret,
        "enabled": webhook.enabled,
        "created_at": webhook.created_at,
        "signature": webhook.signature,
    }


def _webhook(row: Any) -> Webhook:
    return Webhook(
        id=row["id"],
        tenant_id=row["tenant_id"],
        url=row["url"],
        events=tuple(row["events"]),
        secret=row["secret"],
        enabled=bool(row["enabled"]),
        created_at=row["created_at"],
        signature=row["signature"],
    )


def _delivery(row: Any) -> Delivery:
    return Delivery(
        id=row["id"],
        tenant_id=row["tenant_id"],
        webhook_id=row["webhook_id"],
        report_id=row["report_id"],
        event=row["event"],
        url=row["url"],
        payload=row["payload"],
        state=row["state"],
        attempts=row["attempts"],
        next_attempt_at=row["next_attempt_at"],
        last_status=row["last_status"],
        last_error=row["last_error"],
        created_at=row["created_at"],
        delivered_at=row["delivered_at"],
    )
