"""Destinations, and the report deliveries' leased queue, over SQLite or PostgreSQL.

The queue has the webhook outbox's shape (``reportd.adapters.db.webhooks``): a claim takes
the most overdue pending row nobody holds (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, one
writer on SQLite) and leases it; a write after the claim counts only while the lease is
held, so a worker that lost it changes nothing; a lease that runs out (a dead worker) makes
the row claimable again. Rows are made with their report (``rows.insert_report``); only a
report in a final state has claimable deliveries, so none is tried before its files exist.
The outcome's webhook event is inserted into the webhook outbox in the settle's transaction.
"""

from __future__ import annotations

import builtins
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, and_, delete, func, insert, or_, select, update

from reportd.adapters.db.database import read_transaction, write_transaction
from reportd.adapters.db.rows import delivery_of
from reportd.adapters.db.schema import (
    destinations,
    report_deliveries,
    reports,
    webhook_deliveries,
    webhooks,
)
from reportd.domain.destinations import (
    ClaimedReportDelivery,
    DeliveryState,
    Destination,
    DestinationType,
)
from reportd.domain.errors import DestinationNotFound
from reportd.domain.states import FINAL_STATES
from reportd.domain.webhooks import PENDING

__all__ = ["DeliveryQueueStore", "DestinationStore"]

_FINAL = [s.value for s in FINAL_STATES]


def _now() -> datetime:
    return datetime.now(UTC)


class DestinationStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def create(self, destination: Destination) -> Destination:
        now = _now()
        stored = replace(
            destination,
            created_at=destination.created_at or now,
            updated_at=destination.updated_at or now,
        )
        with write_transaction(self.engine) as conn:
            conn.execute(insert(destinations).values(**_row(stored)))
        return stored

    def count(self, tenant_id: str) -> int:
        query = select(func.count()).where(destinations.c.tenant_id == tenant_id)
        with read_transaction(self.engine) as conn:
            return int(conn.execute(query).scalar_one())

    def list_for_tenant(self, tenant_id: str) -> builtins.list[Destination]:
        c = destinations.c
        query = select(destinations).where(c.tenant_id == tenant_id).order_by(c.created_at, c.id)
        with read_transaction(self.engine) as conn:
            return [_destination(row) for row in conn.execute(query).mappings()]

    def get(self, destination_id: str, tenant_id: str) -> Destination:
        with read_transaction(self.engine) as conn:
            return _get(conn, destination_id, tenant_id)

    def update(self, destination: Destination) -> Destination:
        stored = replace(destination, updated_at=_now())
        row = _row(stored)
        for key in ("id", "tenant_id", "type", "created_at"):
            del row[key]
        with write_transaction(self.engine) as conn:
            _get(conn, destination.id, destination.tenant_id)
            conn.execute(update(destinations).where(destinations.c.id == stored.id).values(**row))
        return stored

    def delete(self, destination_id: str, tenant_id: str) -> None:
        with write_transaction(self.engine) as conn:
            _get(conn, destination_id, tenant_id)
            conn.execute(delete(destinations).where(destinations.c.id == destination_id))


class DeliveryQueueStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def claim(self, owner: str, lease_seconds: float) -> ClaimedReportDelivery | None:
        now = _now()
        d = report_deliveries.c
        free = or_(d.lease_expires_at.is_(None), d.lease_expires_at < now)
        oldest = (
            select(d.report_id, d.destination_id, reports.c.state)
            .select_from(report_deliveries.join(reports, reports.c.id == d.report_id))
            .where(
                d.state == DeliveryState.PENDING.value,
                d.next_attempt_at <= now,
                free,
                reports.c.state.in_(_FINAL),
            )
            .order_by(d.next_attempt_at, d.report_id, d.destination_id)
            .limit(1)
            .with_for_update(skip_locked=True, of=report_deliveries)
        )
        with write_transaction(self.engine) as conn:
            found = conn.execute(oldest).first()
            if found is None:
                return None
            report_id, destination_id, report_state = found
            held = _key(report_id, destination_id)
            claimed = conn.execute(
                update(report_deliveries)
                .where(held, d.state == DeliveryState.PENDING.value, free)
                .values(lease_owner=owner, lease_expires_at=now + timedelta(seconds=lease_seconds))
            )
            if claimed.rowcount != 1:
                return None
            row = conn.execute(select(report_deliveries).where(held)).mappings().one()
        return ClaimedReportDelivery(delivery=delivery_of(row), report_state=report_state)

    def renew(self, report_id: str, destination_id: str, owner: str, lease_seconds: float) -> bool:
        d = report_deliveries.c
        held = and_(
            _key(report_id, destination_id),
            d.lease_owner == owner,
            d.state == DeliveryState.PENDING.value,
        )
        expires = _now() + timedelta(seconds=lease_seconds)
        with write_transaction(self.engine) as conn:
            result = conn.execute(
                update(report_deliveries).where(held).values(lease_expires_at=expires)
            )
        return result.rowcount == 1

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
        d = report_deliveries.c
        now = _now()
        held = and_(
            _key(report_id, destination_id),
            d.lease_owner == owner,
            d.state == DeliveryState.PENDING.value,
        )
        values: dict[str, Any] = {
            "state": state.value,
            "attempts": d.attempts + 1,
            "lease_owner": None,
            "lease_expires_at": None,
            "next_attempt_at": retry_at if state is DeliveryState.PENDING else None,
        }
        if error is not None:
            values["last_error"] = error  # a later success keeps the reason it was retried
        if state is DeliveryState.DELIVERED:
            values["delivered_at"] = now
        with write_transaction(self.engine) as conn:
            result = conn.execute(update(report_deliveries).where(held).values(**values))
            if result.rowcount != 1:
                return False
            if event is not None:
                tenant_id = conn.execute(
                    select(d.tenant_id).where(_key(report_id, destination_id))
                ).scalar_one()
                _enqueue_event(conn, tenant_id, report_id, event, now)
        return True


def _enqueue_event(
    conn: Connection, tenant_id: str, report_id: str, event: tuple[str, str], now: datetime
) -> None:
    """One webhook delivery per enabled subscription of the tenant to ``event``."""
    name, payload = event
    w = webhooks.c
    query = select(w.id, w.url, w.events).where(w.tenant_id == tenant_id, w.enabled.is_(True))
    rows = [
        {
            "id": str(uuid.uuid4()),
            "tenant_id": tenant_id,
            "webhook_id": row.id,
            "report_id": report_id,
            "event": name,
            "url": row.url,
            "payload": payload,
            "state": PENDING,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for row in conn.execute(query)
        if name in row.events
    ]
    if rows:
        conn.execute(insert(webhook_deliveries), rows)


def _key(report_id: str, destination_id: str) -> Any:
    d = report_deliveries.c
    return and_(d.report_id == report_id, d.destination_id == destination_id)


def _get(conn: Connection, destination_id: str, tenant_id: str) -> Destination:
    c = destinations.c
    query = select(destinations).where(c.id == destination_id, c.tenant_id == tenant_id)
    row = conn.execute(query).mappings().first()
    if row is None:
        raise DestinationNotFound(f"destination {destination_id!r} not found")
    return _destination(row)


def _row(destination: Destination) -> dict[str, Any]:
    return {
        "id": destination.id,
        "tenant_id": destination.tenant_id,
        "type": destination.type.value,
        "name": destination.name,
        "config": dict(destination.config),
        "sealed_secrets": destination.sealed_secrets,
        "secret_names": list(destination.secret_names),
        "created_at": destination.created_at,
        "updated_at": destination.updated_at,
    }


def _destination(row: Any) -> Destination:
    return Destination(
        id=row["id"],
        tenant_id=row["tenant_id"],
        type=DestinationType(row["type"]),
        name=row["name"],
        config=row["config"],
        sealed_secrets=row["sealed_secrets"],
        secret_names=tuple(row["secret_names"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )
