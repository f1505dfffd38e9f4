"""The composition root: build every adapter and use case from settings, once.

The API (``entrypoints.api.app.create_app``), the worker process, the CLI and the tests all get
their ``App`` from ``build_app``; nothing else constructs a use case or an adapter, and nothing
is created at import time. Each use case receives only the ports and collaborators it needs
(docs/architecture.md draws the graph). Here: building from settings, in the order it happens;
the graph itself is ``graph.py`` (``compose``, ``App``), the delivery wiring ``delivery.py``, the
small settings-to-policy translations ``policies.py``; every public name is importable from here.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from reportd.adapters.outbound import AddressGuard
from reportd.adapters.scratch import Scratch
from reportd.adapters.sources.base import Source
from reportd.adapters.storage.signing import LinkSigner
from reportd.adapters.template_files import load_templates
from reportd.app.catalog import Catalog
from reportd.app.exports import Exports
from reportd.app.ports import AsyncReads
from reportd.app.requests import RequestChecker
from reportd.app.runs import RunOptions
from reportd.bootstrap import policies
from reportd.bootstrap.delivery import Delivery, delivery_of
from reportd.bootstrap.graph import App, compose
from reportd.bootstrap.policies import build_sources
from reportd.config import Settings
from reportd.domain.errors import AlreadyExists, TenantNotFound
from reportd.domain.models import Feature
from reportd.generation.arrow_memory import use_lean_memory_pool
from reportd.generation.generator import PipelineGenerator

if TYPE_CHECKING:
    # Imported where they are built, not here: ``build_exports`` (``reportd export``) never
    # uses the metadata store (SQLAlchemy), the HTTP poster (httpx), the token and password
    # machinery (PyJWT, argon2) or the schedules (croniter), and their imports were about
    # 0.4 s of CPU and 20 MB of every export's start-up.
    from reportd.adapters.db import Store

__all__ = [
    "DEMO_TENANT",
    "App",
    "Delivery",
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
        delivery_policy=policies.delivery_policy(settings),
        outbound=outbound,
        webhook_signature=settings.webhooks.signature,
        rate_limiter=policies.rate_limiter(settings, store),
        token_policy=TokenPolicy(
            access_ttl=settings.oauth.access_token_ttl,
            refresh_ttl=settings.oauth.refresh_token_ttl,
            user_ttl=settings.oauth.user_token_ttl,
        ),
        database_url=store.engine.url.render_as_string(hide_password=False),
        delivery=delivery_of(settings, outbound),
        query_guard=policies.query_guard(settings, catalog),
        template_limits=policies.template_limits(settings),
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
        name: policies.storage(name, config) for name, config in settings.storage_settings().items()
    }
    return Catalog(
        templates=load_templates(settings.template_dirs()),
        sources=policies.build_sources(settings, temp_dir=scratch.duckdb),
        storages=storages,
        default_storage=settings.default_storage,
    )


def _generator(settings: Settings) -> PipelineGenerator:
    use_lean_memory_pool()  # the process generates reports: see generation.arrow_memory
    worker = settings.worker
    return PipelineGenerator(batch_size=worker.batch_size, compresslevel=worker.zip_compresslevel)


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
    sources = policies.build_sources(settings, reuse=current, temp_dir=spill)
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


def ensure_demo_tenant(app: App) -> None:
    try:
        app.tenants.get_tenant(DEMO_TENANT)
    except TenantNotFound:
        with contextlib.suppress(AlreadyExists):  # another process made it first
            app.tenants.create_tenant(
                DEMO_TENANT, name="Demo tenant", features=[Feature.CUSTOM_REPORTS.value]
            )
