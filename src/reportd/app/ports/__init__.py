"""The store ports: what the use cases need from wherever reports, tenants and the rest are kept.

Each port is a ``typing.Protocol``; ``reportd.adapters.db`` implements them over SQLAlchemy
(SQLite and PostgreSQL) and ``reportd.testing`` in memory. Both pass the same contract suite
(``tests/contract``), so a use case tested over the fake behaves the same over a database.
The rules every implementation keeps are written on the methods: a caller may rely on them.

``Store`` bundles one of each; a use case should take only the ports it uses. The ports live
in one module per family (``reports``, ``tenants``, ``outbox``, ``guards``); import them from here.
"""

from __future__ import annotations

from typing import Protocol

from reportd.app.ports.guards import (
    IdempotencyRepository,
    RateCounterRepository,
)
from reportd.app.ports.outbox import (
    DeliveryQueue,
    DestinationRepository,
    WebhookRepository,
)
from reportd.app.ports.reports import (
    AsyncReads,
    ReportRepository,
    ReportSearchRepository,
    ScheduleRepository,
    SubjectRepository,
    WorkQueue,
)
from reportd.app.ports.tenants import (
    ClientRepository,
    SourceGrantRepository,
    TemplateRepository,
    TenantRepository,
    UserRepository,
)

__all__ = [
    "AsyncReads",
    "ClientRepository",
    "DeliveryQueue",
    "DestinationRepository",
    "IdempotencyRepository",
    "RateCounterRepository",
    "ReportRepository",
    "ReportSearchRepository",
    "ScheduleRepository",
    "SourceGrantRepository",
    "Store",
    "SubjectRepository",
    "TemplateRepository",
    "TenantRepository",
    "UserRepository",
    "WebhookRepository",
    "WorkQueue",
]


class Store(Protocol):
    """One of each port, and the life of whatever holds them."""

    @property
    def reports(self) -> ReportRepository: ...
    @property
    def queue(self) -> WorkQueue: ...
    @property
    def schedules(self) -> ScheduleRepository: ...
    @property
    def tenants(self) -> TenantRepository: ...
    @property
    def webhooks(self) -> WebhookRepository: ...
    @property
    def idempotency(self) -> IdempotencyRepository: ...
    @property
    def rate_counters(self) -> RateCounterRepository: ...
    @property
    def search(self) -> ReportSearchRepository: ...
    @property
    def subjects(self) -> SubjectRepository: ...
    @property
    def clients(self) -> ClientRepository: ...
    @property
    def users(self) -> UserRepository: ...
    @property
    def destinations(self) -> DestinationRepository: ...
    @property
    def delivery_queue(self) -> DeliveryQueue: ...
    @property
    def templates(self) -> TemplateRepository: ...
    @property
    def grants(self) -> SourceGrantRepository: ...

    def migrate(self) -> None:
        """Bring the schema up to date (a no-op where there is none)."""

    def check(self) -> None:
        """Raise ``Unavailable`` if the store cannot be reached."""

    def close(self) -> None: ...
