"""The use-case graph: ``compose`` wires every use case over the given ports into an ``App``.

The one place use cases are constructed; ``build_app`` calls it with the real adapters, the
unit tests with ``reportd.testing.InMemoryStore``. Imports of what ``reportd export`` never
uses (SQLAlchemy, httpx, PyJWT, croniter) stay inside ``compose``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from reportd.adapters.outbound import AddressGuard
from reportd.adapters.scratch import Scratch
from reportd.app import ports
from reportd.app.access import require
from reportd.app.catalog import Catalog
from reportd.app.deliveries import DeliveryDispatcher
from reportd.app.destinations import Destinations
from reportd.app.dispatcher import Poster, WebhookDispatcher
from reportd.app.downloads import Downloads
from reportd.app.downloads import LinkSigner as Signer
from reportd.app.entries import ReportEntries
from reportd.app.events import Events
from reportd.app.exports import Exports
from reportd.app.generator import Generator
from reportd.app.health import Readiness
from reportd.app.keys import TenantKeys
from reportd.app.preview import Preview
from reportd.app.ratelimits import RateLimiter
from reportd.app.reports import Reports
from reportd.app.requests import RequestChecker
from reportd.app.retention import Retention
from reportd.app.runs import RunOptions, Runs
from reportd.app.search import ReportSearch
from reportd.app.subjects import Subjects
from reportd.app.webhooks import DeliveryPolicy, WebhookService
from reportd.bootstrap.delivery import Delivery
from reportd.domain.models import Report
from reportd.domain.webhook_signatures import DEFAULT_SCHEME

if TYPE_CHECKING:
    # Imported where they are built, not here: ``build_exports`` (``reportd export``) never
    # uses the metadata store (SQLAlchemy), the HTTP poster (httpx), the token and password
    # machinery (PyJWT, argon2) or the schedules (croniter), and their imports were about
    # 0.4 s of CPU and 20 MB of every export's start-up.
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
