"""Reports, the work queue, schedules, search and subjects: what a report's life is kept in.

The rules every implementation keeps are written on the methods (see ``reportd.app.ports``).
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from reportd.domain.formats import Format
from reportd.domain.leases import Heartbeat, ReapResult
from reportd.domain.listing import ReportPage, ReportQuery, ReportSelection
from reportd.domain.models import ApiKey, Artifact, Progress, Report, ReportError, Schedule, Tenant
from reportd.domain.states import ReportState

__all__ = [
    "AsyncReads",
    "ReportRepository",
    "ReportSearchRepository",
    "ScheduleRepository",
    "SubjectRepository",
    "WorkQueue",
]


class AsyncReads(Protocol):
    """The API's hot reads, awaited on the event loop (no thread hop), one statement each.

    ``reportd.adapters.db.async_reads`` implements it over asyncpg and aiosqlite; it returns
    the same records as ``ReportRepository.get`` and ``TenantRepository.find_key``.
    """

    async def open(self) -> None:
        """Connect; called once the event loop runs (an app's lifespan)."""

    async def close(self) -> None: ...

    async def get_report(self, report_id: str, tenant_id: str) -> Report:
        """The report with its artifacts; ``ReportNotFound`` if absent or another tenant's."""

    async def find_key(self, key_hash: str) -> tuple[ApiKey, Tenant] | None:
        """The live key with that hash and its tenant, or None."""

    async def auth_version(self) -> int | None:
        """A number that changes whenever any key or tenant changes in a way a remembered
        principal would miss (revocation, features); None when it cannot be known now."""


class ReportRepository(Protocol):
    """Reports and their artifacts. Inserting a ``CREATED`` report is the enqueue."""

    def insert(self, report: Report) -> Report:
        """Store a new report; ``created_at`` is set to now unless given."""

    def get(self, report_id: str, tenant_id: str | None = None) -> Report:
        """The report with its artifacts; ``ReportNotFound`` if absent or another tenant's."""

    def search(self, query: ReportQuery) -> ReportPage:
        """One tenant's reports matching every given attribute, newest first, cursor-paged."""

    def request_cancel(self, report_id: str, tenant_id: str, expires_at: datetime) -> Report:
        """CREATED becomes CANCELED now; IN_PROGRESS is flagged for its worker (which loses at
        ``WorkQueue.finish``); any other state is ``InvalidStateTransition``."""

    def delete(self, report_id: str, tenant_id: str) -> tuple[Report, list[str]]:
        """Remove a report that is not running; returns it and its files' storage keys."""

    def add_formats(self, report_id: str, formats: Sequence[Format]) -> Report:
        """A FINISHED report back to the queue with these formats; its artifacts stay."""

    def find_duplicate(self, tenant_id: str, dedup_key: str, since: datetime) -> Report | None:
        """The newest CREATED, IN_PROGRESS or FINISHED report with ``dedup_key`` since ``since``."""

    def expired(self, now: datetime, limit: int = 200) -> builtins.list[Report]:
        """Ended (not yet EXPIRED) reports whose ``expires_at`` is at or before ``now``."""

    def mark_expired(self, report: Report) -> bool:
        """EXPIRED and its artifacts forgotten, if it is still in ``report.state``."""


class WorkQueue(Protocol):
    """The workers' side of the reports: claims under a lease, and how a run ends.

    Every write after ``claim`` takes effect only while ``worker_id`` holds the lease, so a
    worker that lost its report (lease ran out, reaped, handed to another) changes nothing.
    """

    def claim(self, worker_id: str, lease_seconds: float) -> Report | None:
        """The oldest CREATED report, now IN_PROGRESS, leased to ``worker_id``; attempts + 1."""

    def heartbeat(
        self, report_id: str, worker_id: str, lease_seconds: float, progress: Progress
    ) -> Heartbeat:
        """Renew the lease and record progress; says whether a cancel was asked."""

    def finish(
        self,
        report_id: str,
        worker_id: str,
        files: Sequence[Artifact],
        progress: Progress,
        expires_at: datetime,
        *,
        data_key: str | None = None,
    ) -> bool:
        """FINISHED with ``files``, atomically. False if the lease is lost, or if a cancel
        arrived meanwhile: then the report ends CANCELED and the caller removes its files."""

    def end(
        self,
        report_id: str,
        worker_id: str,
        state: ReportState,
        error: ReportError | None,
        expires_at: datetime | None = None,
    ) -> bool:
        """End a run badly (FAILURE, TIMEOUT, CANCELED)."""

    def release(self, report_id: str, worker_id: str) -> bool:
        """Back to CREATED (a graceful stop); the attempt does not count."""

    def park(self, report_id: str, worker_id: str, retry_in: float) -> bool:
        """Give the report up for ``retry_in`` seconds; ``reap`` then queues it again."""

    def reap(self, max_attempts: int, retention: float = 86_400) -> ReapResult:
        """Reports whose lease ran out: CANCELED if a cancel was asked, FAILURE once
        ``max_attempts`` are spent, else back to CREATED."""

    def queue_depth(self) -> int:
        """How many reports wait in CREATED."""

    def count_by_state(self) -> dict[str, int]:
        """How many reports are in each state, every state present."""


class ScheduleRepository(Protocol):
    """Saved report definitions, and their firing exactly once per due time."""

    def insert(self, schedule: Schedule) -> Schedule: ...

    def get(self, schedule_id: str, tenant_id: str) -> Schedule:
        """``ScheduleNotFound`` if absent or another tenant's."""

    def list(
        self, tenant_id: str, *, limit: int, offset: int
    ) -> tuple[builtins.list[Schedule], int]:
        """A page of the tenant's schedules, newest first, and how many there are."""

    def update(self, schedule: Schedule) -> Schedule: ...

    def delete(self, schedule_id: str, tenant_id: str) -> None: ...

    def due(self, now: datetime, limit: int = 100) -> builtins.list[Schedule]:
        """Enabled schedules whose ``next_fire_at`` is at or before ``now``, soonest first."""

    def fire(
        self, schedule: Schedule, report: Report | None, fired_at: datetime, next_fire: datetime
    ) -> bool:
        """Move ``next_fire_at`` on and insert ``report``, only if ``next_fire_at`` still holds
        what ``schedule`` read: of many processes firing the same schedule, one wins."""


class ReportSearchRepository(Protocol):
    def search(self, selection: ReportSelection) -> ReportPage:
        """One tenant's reports matching the selection's filter, sorted, paged, counted."""


class SubjectRepository(Protocol):
    def newest(self, tenant_id: str, template_id: str, subject: str) -> str | None:
        """The id of the newest report of the template about ``subject``, in any state."""
