"""The composition root: build every adapter and use case from settings, once.

The API (``entrypoints.api.app.create_app``), the worker process, the CLI and the tests all get
their ``App`` from ``build_app``; nothing else constructs a use case or an adapter, and nothing
is created at import time. Each use case receives only the ports and collaborators it needs
(docs/architecture.md draws the graph).
"""

from __future__ import annotations

import contextlib
import logging
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reportd.adapters.outbound import AddressGuard
from reportd.adapters.scratch import Scratch
from reportd.adapters.secret_box import FernetBox, derive_key, new_key
from reportd.adapters.sources.base import Source
from reportd.adapters.sources.registry import build_source
from reportd.adapters.storage.base import ArtifactStorage
from reportd.adapters.storage.registry import build_storage
from reportd.adapters.storage.signing import LinkSigner
from reportd.adapters.template_files import load_templates
from reportd.app import ports
from reportd.app.access import require
from reportd.app.catalog import Catalog
from reportd.app.deliveries import DeliveryDispatcher, Sender
from reportd.app.destination_types import HostGuard
from reportd.app.destinations import Destinations, SecretBox
from reportd.app.dispatcher import Poster, WebhookDispatcher
from reportd.app.downloads import Downloads
from reportd.app.downloads import LinkSigner as Signer
from reportd.app.entries import ReportEntries
from reportd.app.events import Events
from reportd.app.exports import Exports
from reportd.app.generator import Generator
from reportd.app.health import Readiness
from reportd.app.keys import TenantKeys
from reportd.app.ports import AsyncReads
from reportd.app.preview import Preview
from reportd.app.ratelimits import Policy, RateLimiter
from reportd.app.reports import Reports
from reportd.app.requests import RequestChecker
from reportd.app.retention import Retention
from reportd.app.runs import RunOptions, Runs
from reportd.app.search import ReportSearch
from reportd.app.subjects import Subjects
from reportd.app.webhooks import DeliveryPolicy, WebhookService
from reportd.config import Settings
from reportd.domain.destinations import DestinationType
from reportd.domain.errors import AlreadyExists, TenantNotFound, ValidationError
from reportd.domain.models import Feature, Report
from reportd.domain.webhook_signatures import DEFAULT_SCHEME
from reportd.generation.arrow_memory import use_lean_memory_pool
from reportd.generation.generator import PipelineGenerator

if TYPE_CHECKING:
    # Imported where they are built, not here: ``build_exports`` (``reportd export``) never
    # uses the metadata store (SQLAlchemy), the HTTP poster (httpx), the token and password
    # machinery (PyJWT, argon2) or the schedules (croniter), and their imports were about
    # 0.4 s of CPU and 20 MB of every export's start-up.
    from reportd.adapters.db import Store
    from reportd.app.library import ReportLibrary
    from reportd.app.oauth import OAuthService, TokenPolicy
    from reportd.app.schedules import Schedules
    from reportd.app.tenant_templates import (
        DefinitionParser,
        QueryGuard,
        TemplateLimits,
        TenantTemplates,
    )
    from reportd.app.tenants import Tenants
    from reportd.app.users import UserService

__all__ = [
    "DEMO_TENANT",
    "App",
    "ExportApp",
    "build_app",
    "build_async_reads",
    "build_exports",
    "build_sources",
    "compose",
    "ensure_demo_tenant",
    "reload_library",
]

log = logging.getLogger("reportd")

DEMO_TENANT = "demo"
# The URL each source was built from, so a reload rebuilds only the sources that changed.
_SOURCE_URLS: weakref.WeakKeyDictionary[Source, str] = weakref.WeakKeyDictionary()


@dataclass
class App:
    """Every use case of one process, wired; the doors call these attributes."""

    store: ports.Store
    events: Events
    catalog: Catalog
    tenants: Tenants
    keys: TenantKeys
    reports: Reports
    downloads: Downloads
    runs: Runs
    exports: Exports
    schedules: Schedules
    library: ReportLibrary
    search: ReportSearch
    subjects: Subjects
    entries: ReportEntries
    preview: Preview
    webhooks: WebhookService
    oauth: OAuthService
    users: UserService
    templates: TenantTemplates
    readiness: Readiness
    idempotency: ports.IdempotencyRepository | None
    rate_limiter: RateLimiter | None
    new_dispatcher: Callable[[str, Callable[[Report], str]], WebhookDispatcher]
    destinations: Destinations
    new_delivery_dispatcher: Callable[[str, Callable[[Report], str]], DeliveryDispatcher]
    database_url: str | None = None  # for LISTEN/NOTIFY; None: no database (the fake store)
    scratch: Scratch | None = None  # this process' folder for partial files and spill

    def migrate(self) -> None:
        self.store.migrate()

    def close(self) -> None:
        """Release database connections and open sources (DuckDB files stay locked otherwise)."""
        self.catalog.close()
        self.store.close()
        if self.scratch is not None:
            self.scratch.close()


def build_app(settings: Settings) -> App:
    """The application ``settings`` describe: database, sources, storages, every use case."""
    from reportd.adapters.db import Store

    store = Store.connect(settings.database_url, pool_size=settings.database.pool_size)
    scratch = Scratch.open(settings.scratch_root)  # sweeps the folders of dead processes
    try:
        app = _build(settings, store, scratch)
    except BaseException:
        scratch.close()
        store.close()
        raise
    app.scratch = scratch
    return app


def _build(settings: Settings, store: Store, scratch: Scratch) -> App:
    from reportd.app.oauth import TokenPolicy

    worker = settings.worker
    catalog = _catalog(settings, scratch)
    generator = _generator(settings)
    outbound = AddressGuard(settings.webhooks.allow_private)
    return compose(
        store,
        catalog,
        generator,
        signer=LinkSigner(settings.signing_secret()),
        signing_secret=settings.signing_secret(),
        link_ttl=settings.server.link_ttl,
        public_url=settings.server.public_url,
        run_options=RunOptions(
            lease_seconds=worker.lease_seconds,
            max_attempts=worker.max_attempts,
            temp_dir=scratch.runs,
        ),
        delivery_policy=_delivery_policy(settings),
        outbound=outbound,
        webhook_signature=settings.webhooks.signature,
        rate_limiter=_rate_limiter(settings, store),
        token_policy=TokenPolicy(
            access_ttl=settings.oauth.access_token_ttl,
            refresh_ttl=settings.oauth.refresh_token_ttl,
            user_ttl=settings.oauth.user_token_ttl,
        ),
        database_url=store.engine.url.render_as_string(hide_password=False),
        delivery=_delivery(settings, outbound),
        query_guard=_query_guard(settings, catalog),
        template_limits=_template_limits(settings),
    )


@dataclass
class ExportApp:
    """What ``reportd export`` runs on: the one use case, and what it must close."""

    exports: Exports
    catalog: Catalog
    scratch: Scratch

    def close(self) -> None:
        self.catalog.close()
        self.scratch.close()


def build_exports(settings: Settings) -> ExportApp:
    """Only what ``reportd export`` needs: the catalog, the pipeline and the request check."""
    scratch = Scratch.open(settings.scratch_root)
    try:
        catalog = _catalog(settings, scratch)
    except BaseException:
        scratch.close()
        raise
    generator = _generator(settings)
    checker = RequestChecker(catalog, generator, AddressGuard(settings.webhooks.allow_private))
    exports = Exports(catalog=catalog, generator=generator, checker=checker)
    return ExportApp(exports, catalog, scratch)


def _catalog(settings: Settings, scratch: Scratch) -> Catalog:
    storages = {
        name: _storage(name, config) for name, config in settings.storage_settings().items()
    }
    return Catalog(
        templates=load_templates(settings.template_dirs()),
        sources=build_sources(settings, temp_dir=scratch.duckdb),
        storages=storages,
        default_storage=settings.default_storage,
    )


def _generator(settings: Settings) -> PipelineGenerator:
    use_lean_memory_pool()  # the process generates reports: see generation.arrow_memory
    worker = settings.worker
    return PipelineGenerator(batch_size=worker.batch_size, compresslevel=worker.zip_compresslevel)


def build_sources(
    settings: Settings, reuse: dict[str, Source] | None = None, *, temp_dir: Path | None = None
) -> dict[str, Source]:
    """Every configured source; one in ``reuse`` with the same name and URL is kept as it is.

    ``temp_dir``: where DuckDB sources spill (the process' scratch folder).
    """
    worker = settings.worker
    built: dict[str, Source] = {}
    for conf in settings.all_sources():
        current = (reuse or {}).get(conf.name)
        if current is not None and _SOURCE_URLS.get(current) == conf.url:
            built[conf.name] = current
            continue
        source = build_source(
            conf.name,
            conf.url,
            threads=worker.duckdb_threads,
            memory_limit=worker.duckdb_memory_limit,
            temp_dir=temp_dir,
        )
        _SOURCE_URLS[source] = conf.url
        built[conf.name] = source
    return built


def reload_library(app: App, settings: Settings) -> list[Source]:
    """SIGHUP: re-read the template files and the sources from ``settings``, then swap them in.

    Everything is built before anything is swapped, so a broken template file raises here and
    the running set stays as it was. Each swap is one attribute assignment on the catalog every
    use case shares: a request or a run sees the old set or the new one, never half of each.
    Returned: the sources no longer configured (or whose URL changed); a report running on one
    may still be using it, so the caller closes them when the process ends, not now.
    """
    catalog = app.catalog
    templates = load_templates(settings.template_dirs())
    current = {name: s for name, s in catalog.sources.items() if isinstance(s, Source)}
    spill = app.scratch.duckdb if app.scratch is not None else None
    sources = build_sources(settings, reuse=current, temp_dir=spill)
    kept = {id(s) for s in sources.values()}
    retired = [s for s in current.values() if id(s) not in kept]
    catalog.templates = dict(templates)
    catalog.sources = dict(sources)
    log.info(
        "templates and sources reloaded",
        extra={"action": "reload", "templates": len(templates), "sources": sorted(sources)},
    )
    return retired


def build_async_reads(app: App, settings: Settings) -> AsyncReads | None:
    """The API's event-loop reads over the app's metadata database; None when the store has
    no database behind it (an in-memory store), where the API reads through the use cases."""
    if app.database_url is None:
        return None
    from reportd.adapters.db.async_reads import async_reads_for

    try:
        return async_reads_for(app.database_url, pool_size=settings.database.pool_size)
    except ValueError:  # an in-memory SQLite database: no second connection can see it
        return None


def compose(
    store: ports.Store,
    catalog: Catalog,
    generator: Generator,
    *,
    signer: Signer,
    signing_secret: str,
    link_ttl: int = 300,
    public_url: str | None = None,
    run_options: RunOptions | None = None,
    delivery_policy: DeliveryPolicy | None = None,
    outbound: AddressGuard | None = None,
    webhook_signature: str = DEFAULT_SCHEME,
    rate_limiter: RateLimiter | None = None,
    token_policy: TokenPolicy | None = None,
    database_url: str | None = None,
    poster: Callable[[float], Poster] | None = None,
    delivery: Delivery | None = None,
    query_guard: QueryGuard | None = None,
    template_limits: TemplateLimits | None = None,
    parse_template: DefinitionParser | None = None,
) -> App:
    """The use-case graph over the given ports: a DAG, each use case gets only what it needs.

    Tests call this with ``reportd.testing.InMemoryStore``, a ``MemoryStorage`` and a small
    generator; ``build_app`` calls it with the real adapters. ``outbound`` is the one policy
    for every request to a tenant's URL (none private unless allow-listed by default), used
    at creation and, through the default poster, at connect time.
    """
    from reportd.adapters.http_poster import HttpxPoster
    from reportd.adapters.sql_guard import SqlGuard
    from reportd.adapters.template_model import parse_definition
    from reportd.app.library import ReportLibrary
    from reportd.app.oauth import OAuthService
    from reportd.app.schedules import Schedules
    from reportd.app.tenant_templates import TemplateLimits, TenantLibrary, TenantTemplates
    from reportd.app.tenants import Tenants
    from reportd.app.tokens import TokenSigner
    from reportd.app.users import UserService

    guard = outbound or AddressGuard()

    def default_poster(timeout: float) -> Poster:
        return HttpxPoster(timeout, guard=guard)

    new_poster = poster or default_poster
    events = Events()
    delivery = delivery or Delivery()
    limits = template_limits or TemplateLimits()
    parse_template = parse_template or parse_definition
    library = TenantLibrary(
        templates=store.templates,
        grants=store.grants,
        parse=parse_template,
        guard=query_guard or SqlGuard({}),
        limits=limits,
    )
    catalog.tenant_templates = library.runnable
    catalog.tenant_listing = library.live
    checker = RequestChecker(catalog, generator, guard, store.destinations)
    retention = Retention(store.reports, catalog)
    search = ReportSearch(store.search)
    reports = Reports(
        reports=store.reports,
        catalog=catalog,
        checker=checker,
        retention=retention,
        search=search,
        events=events,
    )
    downloads = Downloads(
        reports=store.reports,
        catalog=catalog,
        signer=signer,
        link_ttl=link_ttl,
        public_url=public_url,
    )
    schedules = Schedules(
        schedules=store.schedules, reports=reports, catalog=catalog, events=events
    )
    webhooks = WebhookService(
        store=store.webhooks,
        signing_secret=signing_secret,
        outbound=guard,
        policy=delivery_policy,
        default_signature=webhook_signature,
    )

    def new_dispatcher(owner: str, render: Callable[[Report], str]) -> WebhookDispatcher:
        return WebhookDispatcher(
            webhooks=store.webhooks,
            reports=store.reports,
            service=webhooks,
            poster=new_poster(webhooks.policy.timeout),
            render=render,
            owner=owner,
        )

    from reportd.adapters.delivery.hosts import PolicyHostGuard

    destinations = Destinations(
        store=store.destinations, box=delivery.box, guard=delivery.guard or PolicyHostGuard(guard)
    )

    def new_delivery_dispatcher(owner: str, render: Callable[[Report], str]) -> DeliveryDispatcher:
        return DeliveryDispatcher(
            queue=store.delivery_queue,
            reports=store.reports,
            destinations=store.destinations,
            secrets=destinations,
            downloads=downloads,
            senders=delivery.senders,
            policy=delivery.policy,
            render=render,
            owner=owner,
            link_ttl=delivery.link_ttl,
            link_base=delivery.link_base,
            lease_seconds=delivery.lease_seconds,
        )

    oauth = OAuthService(  # tokens are signed with a key derived from the server secret
        clients=store.clients,
        users=store.users,
        tenants=store.tenants,
        signer=TokenSigner(signing_secret),
        policy=token_policy,
    )
    tenants = Tenants(store.tenants, tokens=oauth)
    checks = {"database": store.check}
    checks.update({f"storage:{name}": s.check for name, s in catalog.storages.items()})
    return App(
        store=store,
        events=events,
        catalog=catalog,
        tenants=tenants,
        keys=TenantKeys(
            keys=store.tenants,
            create=tenants.create_key,
            revoke=tenants.revoke_key,
            require=require,
        ),
        reports=reports,
        downloads=downloads,
        runs=Runs(
            queue=store.queue,
            catalog=catalog,
            generator=generator,
            retention=retention,
            checker=checker,
            options=run_options,
        ),
        exports=Exports(catalog=catalog, generator=generator, checker=checker),
        schedules=schedules,
        library=ReportLibrary(
            schedules=schedules,
            search=search,
            downloads=downloads,
            reports=store.reports,
            definitions=store.schedules,
            catalog=catalog,
        ),
        search=search,
        subjects=Subjects(
            subjects=store.subjects,
            reports=store.reports,
            catalog=catalog,
            create=reports,
            downloads=downloads,
        ),
        entries=ReportEntries(reports=reports, downloads=downloads),
        preview=Preview(
            validate=reports.validate,
            template=catalog.template,
            source=catalog.source,
            require=require,
        ),
        webhooks=webhooks,
        oauth=oauth,
        users=UserService(users=store.users, tenants=store.tenants, oauth=oauth),
        templates=TenantTemplates(
            library=library,
            templates=store.templates,
            grants=store.grants,
            reports=store.reports,
            catalog=catalog,
            parse=parse_template,
            limits=limits,
        ),
        readiness=Readiness(checks, list(catalog.storages)),
        idempotency=store.idempotency,
        rate_limiter=rate_limiter,
        new_dispatcher=new_dispatcher,
        destinations=destinations,
        new_delivery_dispatcher=new_delivery_dispatcher,
        database_url=database_url,
    )


@dataclass
class Delivery:
    """What report deliveries are made with: the senders by type, the secrets' box, the
    outbound policy for tenant-given hosts, and how hard to try."""

    senders: dict[DestinationType, Sender] = field(default_factory=dict)
    # a key of this process only when none is given (tests): nothing sealed outlives it
    box: SecretBox = field(default_factory=lambda: FernetBox([new_key()]))
    guard: HostGuard | None = None  # None: the outbound policy compose is given
    policy: DeliveryPolicy = field(default_factory=DeliveryPolicy)
    link_ttl: int = 7 * 86_400
    link_base: str | None = None  # links in mails: the server's own URL unless public_url
    lease_seconds: float = 120.0


def _delivery(settings: Settings, outbound: AddressGuard) -> Delivery:
    # Here, not at the top: the senders' modules (SMTP, S3, SFTP, HTTP) only where they are built.
    from reportd.adapters.delivery.hosts import PolicyHostGuard
    from reportd.adapters.delivery.registry import build_senders

    config = settings.delivery
    keys = config.secret_keys or [derive_key(settings.signing_secret())]
    guard = PolicyHostGuard(outbound)
    return Delivery(
        senders=build_senders(settings, guard),
        box=FernetBox(keys),
        guard=guard,
        policy=DeliveryPolicy(
            retry_delays=tuple(config.retry_delays),
            timeout=config.timeout,
            max_attempts=config.max_attempts,
            poll_interval=config.poll_interval,
        ),
        link_ttl=config.link_ttl,
        link_base=settings.http_base_url(),
        lease_seconds=config.lease_seconds,
    )


def _template_limits(settings: Settings) -> TemplateLimits:
    from reportd.app.tenant_templates import TemplateLimits

    config = settings.tenant_templates
    return TemplateLimits(max_timeout=config.max_timeout, max_templates=config.max_templates)


def _query_guard(settings: Settings, catalog: Catalog) -> QueryGuard:
    """Tenants' queries in each source's dialect, with the operator's row cap and functions."""
    from reportd.adapters.sql_guard import DEFAULT_FUNCTIONS, SqlGuard, dialect_of

    config = settings.tenant_templates

    def dialect(name: str) -> str | None:
        source = catalog.sources.get(name)  # the live set: a reload may change a source
        url = _SOURCE_URLS.get(source) if isinstance(source, Source) else None
        try:
            return None if url is None else dialect_of(url)
        except ValidationError:
            return None

    return SqlGuard(
        dialect,
        allow_functions=DEFAULT_FUNCTIONS | {f.lower() for f in config.allow_functions},
        max_rows=config.max_rows,
    )


def _rate_limiter(settings: Settings, store: ports.Store) -> RateLimiter | None:
    """``[rate_limits]`` over counters in the metadata database, shared by every process."""
    config = settings.rate_limits
    if not config.enabled:
        return None
    policy = Policy(
        window_seconds=config.window_seconds,
        tenant_creates=config.tenant_creates,
        tenant_reads=config.tenant_reads,
        key_creates=config.key_creates,
        key_reads=config.key_reads,
    )
    return RateLimiter(policy, store.rate_counters)


def _delivery_policy(settings: Settings) -> DeliveryPolicy:
    config = settings.webhooks
    return DeliveryPolicy(
        retry_delays=tuple(config.retry_delays),
        timeout=config.timeout,
        max_attempts=config.max_attempts,
        poll_interval=config.poll_interval,
    )


def _storage(name: str, config: dict[str, Any]) -> ArtifactStorage:
    try:
        return build_storage(name, config)
    except (ValueError, TypeError) as exc:  # settings the backend refuses
        raise ValidationError(f"[storage.{name}]: {exc}") from exc


def ensure_demo_tenant(app: App) -> None:
    try:
        app.tenants.get_tenant(DEMO_TENANT)
    except TenantNotFound:
        with contextlib.suppress(AlreadyExists):  # another process made it first
            app.tenants.create_tenant(
                DEMO_TENANT, name="Demo tenant", features=[Feature.CUSTOM_REPORTS.value]
            )
