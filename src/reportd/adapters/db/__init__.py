"""Metadata and queue over SQLAlchemy: SQLite for the embedded default, PostgreSQL to scale out.

``Store`` implements the ``reportd.app.ports.Store`` port: one engine, one adapter per port.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import Engine, text

from reportd.adapters.db.credentials import ClientTable, UserTable
from reportd.adapters.db.database import create_db_engine, migrate
from reportd.adapters.db.deliveries import DeliveryQueueStore, DestinationStore
from reportd.adapters.db.idempotency import IdempotencyStore
from reportd.adapters.db.queue import QueueStore
from reportd.adapters.db.ratelimits import RateCounterStore
from reportd.adapters.db.report_search import ReportSearchStore
from reportd.adapters.db.reports import ReportStore
from reportd.adapters.db.schedules import ScheduleStore
from reportd.adapters.db.subjects import SubjectIndex
from reportd.adapters.db.tenant_templates import SourceGrantStore, TenantTemplateStore
from reportd.adapters.db.tenants import TenantStore
from reportd.adapters.db.webhooks import WebhookStore
from reportd.domain.errors import Unavailable

if TYPE_CHECKING:
    from reportd.app import ports


@dataclass
class Store:
    engine: Engine
    reports: ReportStore
    queue: QueueStore
    tenants: TenantStore
    schedules: ScheduleStore
    webhooks: WebhookStore
    idempotency: IdempotencyStore
    rate_counters: RateCounterStore
    search: ReportSearchStore
    subjects: SubjectIndex
    clients: ClientTable
    users: UserTable
    destinations: DestinationStore
    delivery_queue: DeliveryQueueStore
    templates: TenantTemplateStore
    grants: SourceGrantStore

    @classmethod
    def connect(cls, url: str, *, pool_size: int = 10) -> Store:
        return cls.over(create_db_engine(url, pool_size=pool_size))

    @classmethod
    def over(cls, engine: Engine) -> Store:
        """Every adapter over one engine (they share its pool)."""
        return cls(
            engine=engine,
            reports=ReportStore(engine),
            queue=QueueStore(engine),
            tenants=TenantStore(engine),
            schedules=ScheduleStore(engine),
            webhooks=WebhookStore(engine),
            idempotency=IdempotencyStore(engine),
            rate_counters=RateCounterStore(engine),
            search=ReportSearchStore(engine),
            subjects=SubjectIndex(engine),
            clients=ClientTable(engine),
            users=UserTable(engine),
            destinations=DestinationStore(engine),
            delivery_queue=DeliveryQueueStore(engine),
            templates=TenantTemplateStore(engine),
            grants=SourceGrantStore(engine),
        )

    def migrate(self) -> None:
        migrate(self.engine)

    def check(self) -> None:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as exc:
            raise Unavailable("the metadata database is unavailable") from exc

    def close(self) -> None:
        self.engine.dispose()


if TYPE_CHECKING:

    def _implements(store: Store) -> ports.Store:
        return store  # mypy checks every adapter against its port here


__all__ = [
    "ClientTable",
    "DeliveryQueueStore",
    "DestinationStore",
    "IdempotencyStore",
    "QueueStore",
    "RateCounterStore",
    "ReportSearchStore",
    "ReportStore",
    "ScheduleStore",
    "SourceGrantStore",
    "Store",
    "SubjectIndex",
    "TenantStore",
    "TenantTemplateStore",
    "UserTable",
    "WebhookStore",
]
