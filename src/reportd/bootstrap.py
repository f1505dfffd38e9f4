"""Build the service from settings, once: engine, store, templates, sources, storages."""

from __future__ import annotations

import contextlib
import logging
import weakref
from typing import Any

from reportd.adapters.db import Store
from reportd.adapters.sources.base import Source
from reportd.adapters.sources.registry import build_source
from reportd.adapters.storage.base import ArtifactStorage
from reportd.adapters.storage.registry import build_storage
from reportd.adapters.storage.signing import LinkSigner
from reportd.adapters.template_files import load_templates
from reportd.app.oauth import OAuthService, TokenPolicy
from reportd.app.ports import AsyncReads
from reportd.app.ratelimits import Policy, RateLimiter
from reportd.app.service import ReportService, RunOptions
from reportd.app.tokens import TokenSigner
from reportd.app.users import UserService
from reportd.app.webhooks import DeliveryPolicy, WebhookService
from reportd.config import Settings
from reportd.domain.errors import AlreadyExists, TenantNotFound, ValidationError
from reportd.domain.models import Feature
from reportd.entrypoints.api.webhook_schemas import report_body

log = logging.getLogger("reportd")

DEMO_TENANT = "demo"
# The URL each source was built from, so a reload rebuilds only the sources that changed.
_SOURCE_URLS: weakref.WeakKeyDictionary[Source, str] = weakref.WeakKeyDictionary()


def build_sources(settings: Settings, reuse: dict[str, Source] | None = None) -> dict[str, Source]:
    """Every configured source; one in ``reuse`` with the same name and URL is kept as it is."""
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
        )
        _SOURCE_URLS[source] = conf.url
        built[conf.name] = source
    return built


def reload_library(service: ReportService, settings: Settings) -> list[Source]:
    """SIGHUP: re-read the template files and the sources from ``settings``, then swap them in.

    Everything is built before anything is swapped, so a broken template file raises here and
    the running set stays as it was. Each swap is one attribute assignment: a request or a run
    sees the old set or the new one, never half of each. Returned: the sources no longer
    configured (or whose URL changed); a report running on one may still be using it, so the
    caller closes them when the process ends, not now.
    """
    templates = load_templates(settings.template_dirs())
    sources = build_sources(settings, reuse=service.sources)
    kept = {id(s) for s in sources.values()}
    retired = [s for s in service.sources.values() if id(s) not in kept]
    service.templates = dict(templates)
    service.sources = sources
    log.info(
        "templates and sources reloaded",
        extra={"action": "reload", "templates": len(templates), "sources": sorted(sources)},
    )
    return retired


def build_async_reads(service: ReportService, settings: Settings) -> AsyncReads | None:
    """The API's event-loop reads over the service's metadata database; None when the store
    has no database behind it (an in-memory store), where the API reads through the service."""
    engine = getattr(service.store, "engine", None)
    if engine is None:
        return None
    from reportd.adapters.db.async_reads import async_reads_for

    try:
        return async_reads_for(
            engine.url.render_as_string(hide_password=False),
            pool_size=settings.database.pool_size,
        )
    except ValueError:  # an in-memory SQLite database: no second connection can see it
        return None


def build_service(settings: Settings) -> ReportService:
    store = Store.connect(settings.database_url, pool_size=settings.database.pool_size)
    worker = settings.worker
    sources = build_sources(settings)
    storages = {
        name: _storage(name, config) for name, config in settings.storage_settings().items()
    }
    oauth = build_oauth(settings, store)
    return ReportService(
        store=store,
        templates=load_templates(settings.template_dirs()),
        sources=sources,
        storages=storages,
        signer=LinkSigner(settings.signing_secret()),
        default_storage=settings.default_storage,
        link_ttl=settings.server.link_ttl,
        public_url=settings.server.public_url,
        run_options=RunOptions(
            batch_size=worker.batch_size,
            compresslevel=worker.zip_compresslevel,
            lease_seconds=worker.lease_seconds,
            max_attempts=worker.max_attempts,
        ),
        idempotency=store.idempotency,
        rate_limiter=build_rate_limiter(settings, store),
        webhooks=build_webhooks(settings, store),
        oauth=oauth,
        users=UserService(users=store.users, tenants=store.tenants, oauth=oauth),
    )


def build_oauth(settings: Settings, store: Store) -> OAuthService:
    """OAuth clients and tokens; tokens are signed with a key derived from the server secret."""
    config = settings.oauth
    return OAuthService(
        clients=store.clients,
        users=store.users,
        tenants=store.tenants,
        signer=TokenSigner(settings.signing_secret()),
        policy=TokenPolicy(
            access_ttl=config.access_token_ttl,
            refresh_ttl=config.refresh_token_ttl,
            user_ttl=config.user_token_ttl,
        ),
    )


def build_rate_limiter(settings: Settings, store: Store) -> RateLimiter | None:
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


def build_webhooks(settings: Settings, store: Store) -> WebhookService:
    """``[webhooks]``: subscriptions and deliveries in the metadata database."""
    config = settings.webhooks
    return WebhookService(
        store=store.webhooks,
        reports=store.reports,
        render=report_body,
        signing_secret=settings.signing_secret(),
        policy=DeliveryPolicy(
            retry_delays=tuple(config.retry_delays),
            timeout=config.timeout,
            max_attempts=config.max_attempts,
            poll_interval=config.poll_interval,
        ),
    )


def _storage(name: str, config: dict[str, Any]) -> ArtifactStorage:
    try:
        return build_storage(name, config)
    except (ValueError, TypeError) as exc:  # settings the backend refuses
        raise ValidationError(f"[storage.{name}]: {exc}") from exc


def prepare(settings: Settings, service: ReportService, *, metadata: bool = True) -> None:
    """What the embedded default does on start: migrate, and lay out the demo if asked."""
    if metadata and settings.database_url.startswith("sqlite"):
        service.store.migrate()
    if settings.demo_enabled:
        ensure_demo_data(settings)
        if metadata:
            ensure_demo_tenant(service)


def ensure_demo_data(settings: Settings) -> None:
    from reportd.entrypoints.demo.data import build_demo_database

    path = settings.data_dir / "demo.duckdb"
    if not path.exists():
        counts = build_demo_database(path)
        log.info("demo data built", extra={"action": "demo_data", "rows": sum(counts.values())})


def ensure_demo_tenant(service: ReportService) -> None:
    try:
        service.store.tenants.get_tenant(DEMO_TENANT)
    except TenantNotFound:
        with contextlib.suppress(AlreadyExists):  # another process made it first
            service.create_tenant(
                DEMO_TENANT, name="Demo tenant", features=[Feature.CUSTOM_REPORTS.value]
            )
