"""Tenant templates: reports a tenant defines itself, over the sources the operator granted it.

Why these rules live here, once: every door that makes, edits or runs a tenant's template (the
native API, the console through it, DigiCert's custom reports, the CLI) must refuse the same
things the same way. A template is checked against its source when it is saved (the query runs
with ``LIMIT 0``; its fields must be columns of it), every save is a new version (a report
records the version it ran, and ``TenantLibrary.runnable`` finds exactly that version again),
and the query that runs is never the tenant's text but what the ``QueryGuard`` made of it
under the tenant's grant, with the operator's limits.
"""

from __future__ import annotations

import builtins
import contextlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from reportd.app.access import require, require_feature
from reportd.app.catalog import Catalog
from reportd.app.options import resolve_options
from reportd.app.ports import ReportRepository, SourceGrantRepository, TemplateRepository
from reportd.domain.errors import (
    AlreadyExists,
    ReportdError,
    SourceNotGranted,
    TemplateInvalid,
    TemplateReadOnly,
    ValidationError,
    VersionConflict,
)
from reportd.domain.models import Feature, Principal, Scope, Template
from reportd.domain.sqltext import placeholder_names
from reportd.domain.tenant_templates import SourceGrant, TenantTemplate

__all__ = [
    "DefinitionParser",
    "QueryGuard",
    "TemplateLimits",
    "TemplateView",
    "TenantLibrary",
    "TenantTemplates",
    "merge_patch",
]

DefinitionParser = Callable[[Mapping[str, Any]], Template]
"""A definition (the YAML model as JSON) to a Template, or ``TemplateInvalid`` with positions."""


class QueryGuard(Protocol):
    """Turns a tenant's query into the SQL that runs under a grant (``adapters.sql_guard``)."""

    def contain(self, query: str, grant: SourceGrant) -> str:
        """The SQL to run, or ``QueryNotAllowed`` naming why the query cannot be contained."""
        ...


@dataclass(frozen=True, slots=True)
class TemplateLimits:
    """The operator's limits on tenant templates (``[tenant_templates]``)."""

    max_timeout: int = 600  # seconds; a template asking for more is refused
    max_templates: int = 100  # per tenant


@dataclass(frozen=True, slots=True)
class TemplateView:
    """A template as the API shows it: an operator's (read-only) or one version of a tenant's."""

    template: Template  # the tenant's own query, not the contained one
    stored: TenantTemplate | None = None  # None: an operator's template file

    @property
    def origin(self) -> str:
        return "operator" if self.stored is None else "tenant"

    @property
    def version(self) -> int | None:
        return None if self.stored is None else self.stored.version

    @property
    def definition(self) -> Mapping[str, Any] | None:
        return None if self.stored is None else self.stored.definition

    @property
    def updated_at(self) -> datetime | None:
        return None if self.stored is None else self.stored.updated_at


class TenantLibrary:
    """The runnable form of one version of a tenant's template."""

    def __init__(
        self,
        *,
        templates: TemplateRepository,
        grants: SourceGrantRepository,
        parse: DefinitionParser,
        guard: QueryGuard,
        limits: TemplateLimits,
    ) -> None:
        self._templates = templates
        self._grants = grants
        self._parse = parse
        self._guard = guard
        self._limits = limits

    def runnable(self, tenant_id: str, template_id: str, version: int | None = None) -> Template:
        """The template with its query contained under today's grant (a revoked grant is
        ``SourceNotGranted`` even for an old version), at most the operator's timeout."""
        return self.contain(self.parsed(self._templates.get(tenant_id, template_id, version)))

    def live(self, tenant_id: str) -> builtins.list[Template]:
        """The latest version of each of the tenant's templates, as written (for listings)."""
        return [self.parsed(stored) for stored in self._templates.list(tenant_id)]

    def parsed(self, stored: TenantTemplate) -> Template:
        """The stored definition as a template, as the tenant wrote it."""
        return self._parse(stored.definition).evolve(
            tenant_id=stored.tenant_id, version=stored.version
        )

    def contain(self, template: Template) -> Template:
        tenant_id = template.tenant_id or ""
        return template.evolve(
            query=self._guard.contain(template.query, self.grant(tenant_id, template.source)),
            timeout=min(template.timeout, self._limits.max_timeout),
        )

    def grant(self, tenant_id: str, source: str) -> SourceGrant:
        grant = self._grants.get(tenant_id, source)
        if grant is None:
            raise SourceNotGranted(
                f"source {source!r} is not granted to this tenant", details={"path": "source"}
            )
        return grant


class TenantTemplates:
    """Make, read, edit and delete a tenant's templates; the operator's grants of sources."""

    def __init__(
        self,
        *,
        library: TenantLibrary,
        templates: TemplateRepository,
        grants: SourceGrantRepository,
        reports: ReportRepository,
        catalog: Catalog,
        parse: DefinitionParser,
        limits: TemplateLimits,
    ) -> None:
        self._library = library
        self._templates = templates
        self._grants = grants
        self._reports = reports
        self._catalog = catalog
        self._parse = parse
        self._limits = limits

    # -- reads ---------------------------------------------------------------------------

    def list(self, principal: Principal) -> builtins.list[TemplateView]:
        """The operator's templates, then the tenant's own (latest versions), each by id."""
        require(principal, Scope.TEMPLATES_READ)
        views = [TemplateView(t) for t in sorted(self._catalog.templates.values(), key=_id)]
        for stored in self._templates.list(principal.tenant_id):
            views.append(self._view(stored))
        return views

    def get(self, principal: Principal, template_id: str) -> TemplateView:
        require(principal, Scope.TEMPLATES_READ)
        if template_id in self._catalog.templates:
            return TemplateView(self._catalog.templates[template_id])
        return self._view(self._templates.get(principal.tenant_id, template_id))

    def version(self, principal: Principal, template_id: str, version: int) -> TemplateView:
        require(principal, Scope.TEMPLATES_READ)
        return self._view(self._templates.get(principal.tenant_id, template_id, version))

    def of_report(self, principal: Principal, report_id: str) -> TemplateView:
        """The definition a report was made from: the version it ran, however the template
        was edited (or deleted) since; an operator's template as its file is now."""
        require(principal, Scope.REPORTS_READ)
        report = self._reports.get(report_id, principal.tenant_id)
        if report.template_version is None:
            return TemplateView(self._catalog.template(report.template_id))
        stored = self._templates.get(
            principal.tenant_id, report.template_id, report.template_version
        )
        return self._view(stored)

    # -- writes --------------------------------------------------------------------------

    def validate(self, principal: Principal, definition: Mapping[str, Any]) -> Template:
        """The template ``definition`` makes, checked against its source as a save would."""
        self._writer(principal)
        template = self._parse(definition).evolve(tenant_id=principal.tenant_id)
        problems = self._limits_broken(template)
        contained = self._library.contain(template)  # SourceNotGranted, QueryNotAllowed
        problems.extend(self._against_source(contained, principal.tenant_id))
        if problems:
            raise TemplateInvalid(problems)
        return template

    def create(self, principal: Principal, definition: Mapping[str, Any]) -> TemplateView:
        template = self.validate(principal, definition)
        if template.id in self._catalog.templates:
            raise AlreadyExists(
                f"template {template.id!r} is an operator's template", details={"path": "id"}
            )
        if len(self._templates.list(principal.tenant_id)) >= self._limits.max_templates:
            raise ValidationError(
                f"a tenant may have at most {self._limits.max_templates} templates"
            )
        stored = self._templates.insert(
            TenantTemplate(
                tenant_id=principal.tenant_id,
                id=template.id,
                version=1,
                definition=_without_version(definition),
                updated_by=principal.name,
            )
        )
        return self._view(stored)

    def update(
        self,
        principal: Principal,
        template_id: str,
        changes: Mapping[str, Any],
        expected_version: int | None = None,
    ) -> TemplateView:
        """A JSON merge patch (RFC 7396) of the definition: a new version, checked anew.

        ``expected_version`` (or a ``version`` in ``changes``): refuse with
        ``VersionConflict`` unless the template is still at that version.
        """
        self._writable(principal, template_id)
        current = self._templates.get(principal.tenant_id, template_id)
        asked = changes.get("version", expected_version)
        if asked is not None and (isinstance(asked, bool) or not isinstance(asked, int)):
            raise ValidationError("version is the whole number of the version edited")
        if asked is not None and asked != current.version:
            raise VersionConflict(
                f"template {template_id!r} is at version {current.version}, not {asked}"
            )
        merged = merge_patch(current.definition, _without_version(changes))
        if merged.get("id", template_id) != template_id:
            raise TemplateInvalid([{"path": "id", "message": "a template's id cannot change"}])
        self.validate(principal, merged)
        stored = self._templates.update(
            current.evolve(definition=merged, updated_by=principal.name), current.version
        )
        return self._view(stored)

    def delete(self, principal: Principal, template_id: str) -> None:
        """Gone from lists and new reports; its versions stay for the reports made of them."""
        self._writable(principal, template_id)
        self._templates.delete(principal.tenant_id, template_id)

    # -- the operator's grants -----------------------------------------------------------

    def grant_source(
        self,
        tenant_id: str,
        source: str,
        *,
        tables: tuple[str, ...] = (),
        tenant_column: str | None = None,
    ) -> SourceGrant:
        self._catalog.source(source)  # SourceNotFound for a source not configured
        return self._grants.grant(
            SourceGrant(
                tenant_id=tenant_id, source=source, tables=tables, tenant_column=tenant_column
            )
        )

    def revoke_source(self, tenant_id: str, source: str) -> None:
        self._grants.revoke(tenant_id, source)

    def sources(self, tenant_id: str) -> builtins.list[SourceGrant]:
        return self._grants.list(tenant_id)

    # -- rules ---------------------------------------------------------------------------

    def _writer(self, principal: Principal) -> None:
        require(principal, Scope.TEMPLATES_WRITE)
        require_feature(principal, Feature.CUSTOM_REPORTS)

    def _writable(self, principal: Principal, template_id: str) -> None:
        self._writer(principal)
        if template_id in self._catalog.templates:
            raise TemplateReadOnly(
                f"template {template_id!r} is the operator's and cannot be changed here"
            )

    def _view(self, stored: TenantTemplate) -> TemplateView:
        return TemplateView(self._library.parsed(stored), stored)

    def _limits_broken(self, template: Template) -> builtins.list[dict[str, str]]:
        if template.timeout > self._limits.max_timeout:
            message = f"timeout may be at most {self._limits.max_timeout} seconds"
            return [{"path": "timeout", "message": message}]
        return []

    def _against_source(self, template: Template, tenant_id: str) -> builtins.list[dict[str, str]]:
        """Run the contained query with ``LIMIT 0``; every field must be one of its columns."""
        params: dict[str, Any] = dict.fromkeys(placeholder_names(template.query))
        with contextlib.suppress(ValidationError):  # options without defaults: planned as NULL
            params.update(resolve_options(template, {}))
        params["tenant_id"] = tenant_id
        sql = f"SELECT * FROM ({template.query}) AS validated_rows LIMIT 0"
        try:
            columns = self._catalog.source(template.source).columns(sql, params)
        except ReportdError as exc:
            return [{"path": "query", "message": f"the query does not run: {exc.message}"}]
        problems = []
        for index, field in enumerate(template.fields):
            if field.name not in columns:
                kind = "filterable field" if field.filterable else "field"
                problems.append(
                    {
                        "path": f"fields[{index}].name",
                        "message": (
                            f"{kind} {field.name!r} is not a column of the query "
                            f"(it returns {columns})"
                        ),
                    }
                )
        return problems


def merge_patch(target: Mapping[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    """RFC 7396: objects merge key by key, ``null`` removes a key, anything else replaces."""
    merged = dict(target)
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = merge_patch(merged[key], value)
        else:
            merged[key] = value
    return merged


def _without_version(definition: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in definition.items() if k != "version"}


def _id(template: Template) -> str:
    return template.id
