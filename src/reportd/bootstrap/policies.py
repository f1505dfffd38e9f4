"""Settings to the policies and adapters the graph is built with: sources, storages, the rate
limiter, the webhook retry policy, the tenant templates' limits and SQL guard.

Small translations, each from one ``[table]``; apart so ``bootstrap/__init__`` reads as the
order things are built in.
"""

from __future__ import annotations

import weakref
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reportd.adapters.sources.base import Source
from reportd.adapters.sources.registry import build_source
from reportd.adapters.storage.base import ArtifactStorage
from reportd.adapters.storage.registry import build_storage
from reportd.app import ports
from reportd.app.catalog import Catalog
from reportd.app.ratelimits import Policy, RateLimiter
from reportd.app.webhooks import DeliveryPolicy
from reportd.config import Settings
from reportd.domain.errors import ValidationError

if TYPE_CHECKING:
    # Where they are built, not here: ``reportd export`` imports this module and never needs
    # the tenant templates (or the sqlglot behind their guard).
    from reportd.app.tenant_templates import QueryGuard, TemplateLimits

# The URL each source was built from, so a reload rebuilds only the sources that changed.
_SOURCE_URLS: weakref.WeakKeyDictionary[Source, str] = weakref.WeakKeyDictionary()


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


def template_limits(settings: Settings) -> TemplateLimits:
    from reportd.app.tenant_templates import TemplateLimits

    config = settings.tenant_templates
    return TemplateLimits(max_timeout=config.max_timeout, max_templates=config.max_templates)


def query_guard(settings: Settings, catalog: Catalog) -> QueryGuard:
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


def rate_limiter(settings: Settings, store: ports.Store) -> RateLimiter | None:
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


def delivery_policy(settings: Settings) -> DeliveryPolicy:
    config = settings.webhooks
    return DeliveryPolicy(
        retry_delays=tuple(config.retry_delays),
        timeout=config.timeout,
        max_attempts=config.max_attempts,
        poll_interval=config.poll_interval,
    )


def storage(name: str, config: dict[str, Any]) -> ArtifactStorage:
    try:
        return build_storage(name, config)
    except (ValueError, TypeError) as exc:  # settings the backend refuses
        raise ValidationError(f"[storage.{name}]: {exc}") from exc
