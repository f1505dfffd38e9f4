"""The catalog: the templates, sources and storages this installation has, looked up by name.

Why a module of its own: every use case needs "the template of this report" or "the storage of
that one", and each must fail the same way (``TemplateNotFound``, ``SourceNotFound``,
``StorageNotFound``) whichever door asked. The protocols here are the little the use cases need
of a source and of a storage; ``reportd.adapters.sources`` and ``reportd.adapters.storage``
implement them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from reportd.app.access import require
from reportd.app.options import resolve_options
from reportd.domain.errors import SourceNotFound, StorageNotFound, TemplateNotFound
from reportd.domain.filters import compile_filter, parse_order_by
from reportd.domain.formats import FieldType
from reportd.domain.models import Principal, Report, Scope, Template

__all__ = ["BatchStream", "Catalog", "FileStorage", "Source", "TenantResolver"]


class BatchStream(Protocol):
    """One running query: Arrow record batches; ``interrupt`` may come from another thread."""

    def __iter__(self) -> Iterator[Any]: ...
    def __enter__(self) -> BatchStream: ...
    def __exit__(self, *exc: object) -> None: ...
    def interrupt(self) -> None: ...
    def close(self) -> None: ...
    def count(self) -> int | None:
        """The total row count when it is cheap to know (may block)."""
        ...


class Source(Protocol):
    """A named data source (``reportd.adapters.sources``)."""

    name: str

    def stream(
        self,
        sql: str,
        params: Mapping[str, object],
        *,
        batch_size: int,
        types: Mapping[str, FieldType] | None = None,
    ) -> BatchStream:
        """Start ``sql`` and stream its rows; ``types``: the template's, to cast values to."""
        ...

    def columns(self, sql: str, params: Mapping[str, object]) -> list[str]:
        """The result's column names, without reading its rows (template validation)."""
        ...

    def close(self) -> None: ...


TenantResolver = Callable[[str, str, "int | None"], Template]
"""(tenant_id, template_id, version) -> a tenant's runnable template (``TenantLibrary``)."""


class FileStorage(Protocol):
    """Where artifacts live (``reportd.adapters.storage``): keys chosen by reportd."""

    id: str

    def put_file(self, key: str, source: Path) -> int: ...
    def open_range(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]: ...
    def delete(self, key: str) -> None: ...
    def delete_prefix(self, prefix: str) -> int: ...
    def list_keys(self, prefix: str = "") -> list[str]: ...
    def local_path(self, key: str) -> Path | None: ...
    def presigned_url(
        self, key: str, *, filename: str, mime_type: str, expires_in: int
    ) -> str | None: ...
    def check(self) -> None: ...


class Catalog:
    """Templates, sources and storages by name, and the template reads of the API."""

    def __init__(
        self,
        *,
        templates: Mapping[str, Template],
        sources: Mapping[str, Source],
        storages: Mapping[str, FileStorage],
        default_storage: str = "default",
    ) -> None:
        self.templates = dict(templates)
        self.sources = dict(sources)
        self.storages = dict(storages)
        self.default_storage = default_storage
        self.tenant_templates: TenantResolver | None = None  # set by ``bootstrap.compose``
        self.tenant_listing: Callable[[str], list[Template]] | None = None  # likewise

    def template(
        self, template_id: str, tenant_id: str | None = None, version: int | None = None
    ) -> Template:
        """An operator's template, else (given a tenant) that tenant's own: its latest
        version, or exactly ``version`` (what a report ran). Another tenant's is not found."""
        if version is None and template_id in self.templates:
            return self.templates[template_id]
        if tenant_id is not None and self.tenant_templates is not None:
            return self.tenant_templates(tenant_id, template_id, version)
        raise TemplateNotFound(f"template {template_id!r} not found")

    def templates_for(self, tenant_id: str) -> list[Template]:
        """Every template a tenant can use: the operator's, then its own, each by id."""
        own = self.tenant_listing(tenant_id) if self.tenant_listing is not None else []
        shared = sorted(self.templates.values(), key=lambda t: t.id)
        return [*shared, *(t for t in own if t.id not in self.templates)]

    def of_report(self, report: Report) -> Template:
        """The template a report was made from, at the version it recorded."""
        return self.template(report.template_id, report.tenant_id, report.template_version)

    def source(self, name: str) -> Source:
        try:
            return self.sources[name]
        except KeyError:
            raise SourceNotFound(f"source {name!r} is not configured") from None

    def storage(self, storage_id: str) -> FileStorage:
        try:
            return self.storages[storage_id]
        except KeyError:
            raise StorageNotFound(f"storage {storage_id!r} is not configured") from None

    def storage_of(self, report: Report) -> FileStorage:
        return self.storage(report.storage_id)

    def check_storage(self, storage_id: str | None) -> str:
        """The storage a new report goes to; ``StorageNotFound`` naming the known ones."""
        chosen = storage_id or self.default_storage
        if chosen not in self.storages:
            raise StorageNotFound(f"no storage {chosen!r}; known: {sorted(self.storages)}")
        return chosen

    # -- the template reads of the API ---------------------------------------------------

    def list_templates(self, principal: Principal) -> list[Template]:
        require(principal, Scope.TEMPLATES_READ)
        return self.templates_for(principal.tenant_id)

    def get_template(self, principal: Principal, template_id: str) -> Template:
        require(principal, Scope.TEMPLATES_READ)
        return self.template(template_id, principal.tenant_id)

    def validate_query(
        self,
        principal: Principal,
        template_id: str,
        filter: str | None = None,
        order_by: Sequence[str] = (),
        options: Mapping[str, Any] | None = None,
    ) -> None:
        """Check a filter, an order and options against a template, as a create would."""
        template = self.get_template(principal, template_id)
        if options is not None:
            resolve_options(template, options)
        if filter and filter.strip():
            compile_filter(filter, template.fields_by_name)
        parse_order_by(order_by, template.fields_by_name)

    def close(self) -> None:
        """Close open sources (a DuckDB file stays locked otherwise)."""
        for source in self.sources.values():
            source.close()
