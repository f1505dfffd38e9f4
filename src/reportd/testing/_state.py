"""What the in-memory store keeps, behind the one lock every one of its ports takes.

Rows are kept the way the SQL store keeps them, including what a ``Report`` does not show
(the lease, ``updated_at``, the state last turned into webhook deliveries), so each port can
apply the same rules to the same facts. Records go in and come out as copies: a caller that
changes a returned ``options`` dict changes nothing here, as with a database.
"""

from __future__ import annotations

import copy
import dataclasses
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from reportd.domain.credentials import OAuthClient, User
from reportd.domain.destinations import Destination, pending_deliveries
from reportd.domain.errors import ReportNotFound
from reportd.domain.idempotency import IdempotencyRecord
from reportd.domain.models import ApiKey, Report, Schedule, Tenant
from reportd.domain.webhooks import Delivery, Webhook

Clock = Callable[[], datetime]
_R = TypeVar("_R")


def utc_now() -> datetime:
    return datetime.now(UTC)


def in_utc(record: _R) -> _R:
    """Every date-time of ``record`` as an aware UTC one, as the metadata database returns it."""
    changes = {
        f.name: _utc(value)
        for f in dataclasses.fields(record)  # type: ignore[arg-type]
        if isinstance(value := getattr(record, f.name), datetime)
    }
    return dataclasses.replace(record, **changes) if changes else record  # type: ignore[type-var]


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@dataclass
class ReportRow:
    report: Report  # with its artifacts
    updated_at: datetime
    lease_owner: str | None = None
    lease_expires_at: datetime | None = None
    notified_state: str | None = None  # the final state last turned into deliveries


@dataclass
class DeliveryRow:
    delivery: Delivery
    lease_owner: str | None = None
    lease_expires_at: datetime | None = None


class MemoryState:
    """Every table of the store; take ``lock`` around any read or write of them."""

    def __init__(self, clock: Clock = utc_now) -> None:
        self.lock = threading.RLock()  # re-entrant: webhooks render payloads through reports
        self.clock = clock
        self.reports: dict[str, ReportRow] = {}
        self.schedules: dict[str, Schedule] = {}
        self.tenants: dict[str, Tenant] = {}
        self.keys: dict[str, ApiKey] = {}
        self.clients: dict[str, OAuthClient] = {}
        self.users: dict[str, User] = {}
        self.webhooks: dict[str, Webhook] = {}
        self.deliveries: dict[str, DeliveryRow] = {}
        self.idempotency: dict[tuple[str, str], IdempotencyRecord] = {}
        self.counters: dict[tuple[str, int], int] = {}
        self.destinations: dict[str, Destination] = {}
        # (report id, destination id) -> (lease owner, lease expiry); the delivery itself is
        # kept on its report (``Report.deliveries``), so every read shows it
        self.delivery_leases: dict[tuple[str, str], tuple[str, datetime]] = {}
        self.auth_version = 0  # moves whenever a remembered principal would be wrong

    def now(self) -> datetime:
        return self.clock()

    def add_report(self, report: Report) -> Report:
        """Insert; returns ``report`` with ``created_at`` set, as the SQL store does."""
        now = self.now()
        stored = report.evolve(created_at=report.created_at or now)
        deliveries = pending_deliveries(stored.id, stored.tenant_id, stored.destinations, now)
        kept = in_utc(stored).evolve(
            artifacts=(), deduplicated=False, options=_copied(stored.options), deliveries=deliveries
        )
        self.reports[kept.id] = ReportRow(report=kept, updated_at=now)
        return stored.evolve(deliveries=deliveries)

    def row(self, report_id: str, tenant_id: str | None = None) -> ReportRow:
        found = self.reports.get(report_id)
        if found is None or (tenant_id is not None and found.report.tenant_id != tenant_id):
            raise ReportNotFound(f"report {report_id!r} not found")
        return found

    def read(self, report_id: str, tenant_id: str | None = None) -> Report:
        return shown(self.row(report_id, tenant_id).report)

    def change(self, row: ReportRow, **changes: object) -> None:
        row.report = in_utc(row.report.evolve(**changes))
        row.updated_at = self.now()


def shown(report: Report) -> Report:
    """A copy safe to hand out."""
    return report.evolve(options=_copied(report.options))


def _copied(options: Mapping[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(dict(options))


def newest_first(rows: list[ReportRow]) -> list[ReportRow]:
    """The default order of every listing: created_at, then id, both descending."""
    return sorted(rows, key=lambda r: (_created(r.report), r.report.id), reverse=True)


def _created(report: Report) -> datetime:
    assert report.created_at is not None  # set on insert
    return report.created_at


def oldest_first(rows: list[ReportRow]) -> list[ReportRow]:
    return sorted(rows, key=lambda r: (_created(r.report), r.report.id))
