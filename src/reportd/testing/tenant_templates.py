"""Tenants' templates and source grants in memory, with the SQL store's rules."""

from __future__ import annotations

import builtins
import copy
from dataclasses import dataclass, field
from datetime import datetime

from reportd.domain.errors import AlreadyExists, NotFound, TemplateNotFound, VersionConflict
from reportd.domain.tenant_templates import SourceGrant, TenantTemplate
from reportd.testing._state import MemoryState

__all__ = ["MemoryGrants", "MemoryTemplates"]


@dataclass
class _Head:
    version: int
    created_at: datetime
    deleted: bool = False
    versions: dict[int, TenantTemplate] = field(default_factory=dict)


class MemoryTemplates:
    def __init__(self, state: MemoryState) -> None:
        self._state = state
        self._heads: dict[tuple[str, str], _Head] = {}

    def insert(self, template: TenantTemplate) -> TenantTemplate:
        with self._state.lock:
            now = self._state.now()
            head = self._heads.get((template.tenant_id, template.id))
            if head is not None and not head.deleted:
                raise AlreadyExists(f"template {template.id!r} already exists")
            version = 1 if head is None else head.version + 1
            stored = _copy(template.evolve(version=version, created_at=now, updated_at=now))
            versions = {} if head is None else head.versions
            versions[version] = stored
            self._heads[(template.tenant_id, template.id)] = _Head(version, now, False, versions)
            return _copy(stored)

    def get(self, tenant_id: str, template_id: str, version: int | None = None) -> TenantTemplate:
        with self._state.lock:
            head = self._heads.get((tenant_id, template_id))
            if head is None or (version is None and head.deleted):
                raise TemplateNotFound(f"template {template_id!r} not found")
            wanted = head.version if version is None else version
            found = head.versions.get(wanted)
            if found is None:
                raise TemplateNotFound(f"template {template_id!r} has no version {wanted}")
            return _copy(found.evolve(created_at=head.created_at))

    def list(self, tenant_id: str) -> builtins.list[TenantTemplate]:
        with self._state.lock:
            return [
                _copy(head.versions[head.version].evolve(created_at=head.created_at))
                for (tenant, _), head in sorted(self._heads.items())
                if tenant == tenant_id and not head.deleted
            ]

    def update(self, template: TenantTemplate, expected_version: int) -> TenantTemplate:
        with self._state.lock:
            head = self._heads.get((template.tenant_id, template.id))
            if head is None or head.deleted:
                raise TemplateNotFound(f"template {template.id!r} not found")
            if head.version != expected_version:
                raise VersionConflict(
                    f"template {template.id!r} is at version {head.version}, not {expected_version}"
                )
            now = self._state.now()
            head.version = expected_version + 1
            stored = _copy(
                template.evolve(version=head.version, created_at=head.created_at, updated_at=now)
            )
            head.versions[head.version] = stored
            return _copy(stored)

    def delete(self, tenant_id: str, template_id: str) -> None:
        with self._state.lock:
            head = self._heads.get((tenant_id, template_id))
            if head is None or head.deleted:
                raise TemplateNotFound(f"template {template_id!r} not found")
            head.deleted = True


class MemoryGrants:
    def __init__(self, state: MemoryState) -> None:
        self._state = state
        self._grants: dict[tuple[str, str], SourceGrant] = {}

    def grant(self, grant: SourceGrant) -> SourceGrant:
        with self._state.lock:
            stored = grant.evolve(created_at=self._state.now())
            self._grants[(grant.tenant_id, grant.source)] = stored
            return stored

    def revoke(self, tenant_id: str, source: str) -> None:
        with self._state.lock:
            if self._grants.pop((tenant_id, source), None) is None:
                raise NotFound(f"tenant {tenant_id!r} has no grant of source {source!r}")

    def get(self, tenant_id: str, source: str) -> SourceGrant | None:
        with self._state.lock:
            return self._grants.get((tenant_id, source))

    def list(self, tenant_id: str) -> builtins.list[SourceGrant]:
        with self._state.lock:
            return [g for (t, _), g in sorted(self._grants.items()) if t == tenant_id]


def _copy(template: TenantTemplate) -> TenantTemplate:
    """A copy whose definition the caller may change without changing the store's."""
    return template.evolve(definition=copy.deepcopy(dict(template.definition)))
