"""The store ports: what the use cases need from wherever reports, tenants and the rest are kept.

Each port is a ``typing.Protocol``; ``reportd.adapters.db`` implements them over SQLAlchemy
(SQLite and PostgreSQL) and ``reportd.testing`` in memory. Both pass the same contract suite
(``tests/contract``), so a use case tested over the fake behaves the same over a database.
The rules every implementation keeps are written on the methods: a caller may rely on them.

``Store`` bundles one of each; a use case should take only the ports it uses.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Protocol

from reportd.domain.credentials import OAuthClient, User
from reportd.domain.destinations import ClaimedReportDelivery, DeliveryState, Destination
from reportd.domain.formats import Format
from reportd.domain.idempotency import IdempotencyRecord, StoredResponse
from reportd.domain.leases import Heartbeat, ReapResult
from reportd.domain.limits import Limit
from reportd.domain.listing import ReportPage, ReportQuery, ReportSelection
from reportd.domain.models import ApiKey, Artifact, Progress, Report, ReportError, Schedule, Tenant
from reportd.domain.states import ReportState
from reportd.domain.tenant_templates import SourceGrant, TenantTemplate
from reportd.domain.webhooks import ClaimedDelivery, DeliveryPage, Webhook

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


class TenantRepository(Protocol):
    """Tenants and their API keys (only a key's hash is kept)."""

    def create_tenant(self, tenant: Tenant) -> Tenant:
        """``AlreadyExists`` if the id is taken."""

    def get_tenant(self, tenant_id: str) -> Tenant: ...

    def list_tenants(self) -> builtins.list[Tenant]: ...

    def set_features(self, tenant_id: str, features: Iterable[str]) -> Tenant: ...

    def create_key(self, key: ApiKey) -> ApiKey: ...

    def find_key(self, key_hash: str) -> tuple[ApiKey, Tenant] | None:
        """The live (unrevoked) key with that hash, and its tenant."""

    def list_keys(self, tenant_id: str) -> builtins.list[ApiKey]: ...

    def revoke_key(self, key_id: str, tenant_id: str | None = None) -> None:
        """``KeyNotFound`` unless a live key of that id (and tenant, if given) exists."""


class ClientRepository(Protocol):
    """OAuth 2.0 clients (only a secret's hash is kept), each with its tenant."""

    def create_client(self, client: OAuthClient) -> OAuthClient: ...

    def find_client(self, client_id: str) -> tuple[OAuthClient, Tenant] | None:
        """The client of that id, revoked or not, and its tenant."""

    def list_clients(self, tenant_id: str) -> builtins.list[OAuthClient]: ...

    def revoke_client(self, client_id: str, tenant_id: str | None = None) -> None:
        """Set ``revoked_at`` and bump ``version`` (its tokens fail from then on);
        ``KeyNotFound`` unless a live client of that id (and tenant, if given) exists."""


class UserRepository(Protocol):
    """Users who sign in with a password (only an argon2 hash is kept), each with its tenant."""

    def create_user(self, user: User) -> User:
        """``AlreadyExists`` if the username is taken (usernames are unique across tenants:
        a sign-in names no tenant)."""

    def find_user(
        self, *, user_id: str | None = None, username: str | None = None
    ) -> tuple[User, Tenant] | None: ...

    def list_users(self, tenant_id: str) -> builtins.list[User]: ...

    def disable_user(self, username: str, tenant_id: str | None = None) -> None:
        """Set ``disabled_at`` and bump ``version``; ``KeyNotFound`` unless an active user."""

    def set_password(self, user_id: str, password_hash: str) -> None:
        """A new hash for the same password (a rehash); ``version`` is kept."""


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


class IdempotencyRepository(Protocol):
    """Idempotency-Key records: one request per key runs, the others get its answer."""

    def claim(self, record: IdempotencyRecord) -> IdempotencyRecord | None:
        """Take the key (None), or the live record holding it; an expired or abandoned
        holder (``reportd.app.idempotency.is_reclaimable``) is replaced."""

    def complete(self, scope: str, key: str, response: StoredResponse) -> None: ...

    def release(self, scope: str, key: str) -> None:
        """Forget an unfinished claim, so a retry may run."""

    def get(self, scope: str, key: str) -> IdempotencyRecord | None: ...

    def purge(self, now: datetime | None = None) -> int:
        """Delete records older than the TTL; how many."""


class RateCounterRepository(Protocol):
    """Request counts per bucket and fixed window, shared by every process."""

    def hit(self, limits: Sequence[Limit], window_start: int) -> Mapping[str, int] | None:
        """Count one request in every bucket; the new counts, or None (nothing counted) if
        one would go over its limit."""

    def counts(self, buckets: Sequence[str], window_start: int) -> Mapping[str, int]: ...

    def purge(self, before: int) -> int:
        """Drop windows that started before ``before``."""


class TemplateRepository(Protocol):
    """Tenants' templates, every version kept (a report names the version it ran)."""

    def insert(self, template: TenantTemplate) -> TenantTemplate:
        """A new template; ``AlreadyExists`` if the tenant has a live one with that id. Its
        version is one past any version a deleted template of that id had (else 1);
        ``created_at`` and ``updated_at`` are set to now."""

    def get(self, tenant_id: str, template_id: str, version: int | None = None) -> TenantTemplate:
        """The latest version of a live template, or exactly ``version`` (deleted or not);
        ``TemplateNotFound`` if absent or another tenant's."""

    def list(self, tenant_id: str) -> builtins.list[TenantTemplate]:
        """The latest version of each of the tenant's live templates, by id."""

    def update(self, template: TenantTemplate, expected_version: int) -> TenantTemplate:
        """Store ``template`` as version ``expected_version + 1``, only if the latest version
        is still ``expected_version`` (``VersionConflict`` otherwise); ``TemplateNotFound``
        if there is no live template."""

    def delete(self, tenant_id: str, template_id: str) -> None:
        """No longer listed or found by id; its versions stay readable by number."""


class SourceGrantRepository(Protocol):
    """Which sources each tenant may write templates over (the operator's grants)."""

    def grant(self, grant: SourceGrant) -> SourceGrant:
        """Create or replace the grant of ``grant.source`` to ``grant.tenant_id``."""

    def revoke(self, tenant_id: str, source: str) -> None:
        """``NotFound`` unless that grant exists."""

    def get(self, tenant_id: str, source: str) -> SourceGrant | None: ...

    def list(self, tenant_id: str) -> builtins.list[SourceGrant]:
        """The tenant's grants, by source name."""


class ReportSearchRepository(Protocol):
    def search(self, selection: ReportSelection) -> ReportPage:
        """One tenant's reports matching the selection's filter, sorted, paged, counted."""


class SubjectRepository(Protocol):
    def newest(self, tenant_id: str, template_id: str, subject: str) -> str | None:
        """The id of the newest report of the template about ``subject``, in any state."""


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
