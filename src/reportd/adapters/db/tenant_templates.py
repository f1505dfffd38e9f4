"""Tenants' templates (every version kept) and the operator's source grants.

The ``tenant_templates`` row holds a template's latest version number and whether it was
deleted; ``tenant_template_versions`` holds each version's definition, never changed once
written, so a report's ``(template_id, template_version)`` always finds what it ran.
An edit moves the latest version only if it still is the one the editor read.
"""

from __future__ import annotations

import builtins
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from reportd.adapters.db.database import read_transaction, write_transaction
from reportd.adapters.db.schema import source_grants, tenant_template_versions, tenant_templates
from reportd.domain.errors import AlreadyExists, NotFound, TemplateNotFound, VersionConflict
from reportd.domain.tenant_templates import SourceGrant, TenantTemplate

__all__ = ["SourceGrantStore", "TenantTemplateStore"]

_HEAD = tenant_templates
_VERSIONS = tenant_template_versions


class TenantTemplateStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def insert(self, template: TenantTemplate) -> TenantTemplate:
        now = datetime.now(UTC)
        try:
            with write_transaction(self.engine) as conn:
                head = _head(conn, template.tenant_id, template.id)
                if head is not None and head["deleted_at"] is None:
                    raise AlreadyExists(f"template {template.id!r} already exists")
                version = 1 if head is None else head["version"] + 1
                values = {"version": version, "created_at": now, "updated_at": now}
                if head is None:
                    conn.execute(
                        insert(_HEAD).values(tenant_id=template.tenant_id, id=template.id, **values)
                    )
                else:
                    conn.execute(
                        update(_HEAD)
                        .where(_HEAD.c.tenant_id == template.tenant_id, _HEAD.c.id == template.id)
                        .values(deleted_at=None, **values)
                    )
                stored = template.evolve(version=version, created_at=now, updated_at=now)
                conn.execute(insert(_VERSIONS).values(**_version_row(stored)))
        except IntegrityError as exc:  # another request made it at the same moment
            raise AlreadyExists(f"template {template.id!r} already exists") from exc
        return stored

    def get(self, tenant_id: str, template_id: str, version: int | None = None) -> TenantTemplate:
        with read_transaction(self.engine) as conn:
            head = _head(conn, tenant_id, template_id)
            if head is None or (version is None and head["deleted_at"] is not None):
                raise TemplateNotFound(f"template {template_id!r} not found")
            wanted = head["version"] if version is None else version
            row = (
                conn.execute(
                    select(_VERSIONS).where(
                        _VERSIONS.c.tenant_id == tenant_id,
                        _VERSIONS.c.template_id == template_id,
                        _VERSIONS.c.version == wanted,
                    )
                )
                .mappings()
                .first()
            )
        if row is None:
            raise TemplateNotFound(f"template {template_id!r} has no version {wanted}")
        return _template(row, head["created_at"])

    def list(self, tenant_id: str) -> builtins.list[TenantTemplate]:
        query = (
            select(_VERSIONS, _HEAD.c.created_at.label("head_created_at"))
            .join(
                _HEAD,
                (_HEAD.c.tenant_id == _VERSIONS.c.tenant_id)
                & (_HEAD.c.id == _VERSIONS.c.template_id)
                & (_HEAD.c.version == _VERSIONS.c.version),
            )
            .where(_HEAD.c.tenant_id == tenant_id, _HEAD.c.deleted_at.is_(None))
            .order_by(_HEAD.c.id)
        )
        with read_transaction(self.engine) as conn:
            rows = conn.execute(query).mappings().all()
        return [_template(r, r["head_created_at"]) for r in rows]

    def update(self, template: TenantTemplate, expected_version: int) -> TenantTemplate:
        now = datetime.now(UTC)
        new_version = expected_version + 1
        with write_transaction(self.engine) as conn:
            head = _head(conn, template.tenant_id, template.id)
            if head is None or head["deleted_at"] is not None:
                raise TemplateNotFound(f"template {template.id!r} not found")
            moved = conn.execute(
                update(_HEAD)
                .where(
                    _HEAD.c.tenant_id == template.tenant_id,
                    _HEAD.c.id == template.id,
                    _HEAD.c.version == expected_version,
                    _HEAD.c.deleted_at.is_(None),
                )
                .values(version=new_version, updated_at=now)
            )
            if moved.rowcount == 0:
                raise VersionConflict(
                    f"template {template.id!r} is at version {head['version']}, "
                    f"not {expected_version}"
                )
            stored = template.evolve(
                version=new_version, created_at=head["created_at"], updated_at=now
            )
            conn.execute(insert(_VERSIONS).values(**_version_row(stored)))
        return stored

    def delete(self, tenant_id: str, template_id: str) -> None:
        with write_transaction(self.engine) as conn:
            done = conn.execute(
                update(_HEAD)
                .where(
                    _HEAD.c.tenant_id == tenant_id,
                    _HEAD.c.id == template_id,
                    _HEAD.c.deleted_at.is_(None),
                )
                .values(deleted_at=datetime.now(UTC))
            )
        if done.rowcount == 0:
            raise TemplateNotFound(f"template {template_id!r} not found")


class SourceGrantStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def grant(self, grant: SourceGrant) -> SourceGrant:
        stored = grant.evolve(created_at=datetime.now(UTC))
        row = {
            "tenant_id": stored.tenant_id,
            "source": stored.source,
            "tables": list(stored.tables),
            "tenant_column": stored.tenant_column,
            "created_at": stored.created_at,
        }
        with write_transaction(self.engine) as conn:
            conn.execute(
                delete(source_grants).where(
                    source_grants.c.tenant_id == grant.tenant_id,
                    source_grants.c.source == grant.source,
                )
            )
            conn.execute(insert(source_grants).values(**row))
        return stored

    def revoke(self, tenant_id: str, source: str) -> None:
        with write_transaction(self.engine) as conn:
            done = conn.execute(
                delete(source_grants).where(
                    source_grants.c.tenant_id == tenant_id, source_grants.c.source == source
                )
            )
        if done.rowcount == 0:
            raise NotFound(f"tenant {tenant_id!r} has no grant of source {source!r}")

    def get(self, tenant_id: str, source: str) -> SourceGrant | None:
        query = select(source_grants).where(
            source_grants.c.tenant_id == tenant_id, source_grants.c.source == source
        )
        with read_transaction(self.engine) as conn:
            row = conn.execute(query).mappings().first()
        return None if row is None else _grant(row)

    def list(self, tenant_id: str) -> builtins.list[SourceGrant]:
        query = (
            select(source_grants)
            .where(source_grants.c.tenant_id == tenant_id)
            .order_by(source_grants.c.source)
        )
        with read_transaction(self.engine) as conn:
            rows = conn.execute(query).mappings().all()
        return [_grant(r) for r in rows]


def _head(conn: Connection, tenant_id: str, template_id: str) -> Any:
    query = select(_HEAD).where(_HEAD.c.tenant_id == tenant_id, _HEAD.c.id == template_id)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()  # two edits at once: the second waits, then conflicts
    return conn.execute(query).mappings().first()


def _version_row(template: TenantTemplate) -> dict[str, Any]:
    return {
        "tenant_id": template.tenant_id,
        "template_id": template.id,
        "version": template.version,
        "definition": dict(template.definition),
        "created_at": template.updated_at,
        "updated_by": template.updated_by,
    }


def _template(row: Any, created_at: datetime) -> TenantTemplate:
    return TenantTemplate(
        tenant_id=row["tenant_id"],
        id=row["template_id"],
        version=row["version"],
        definition=row["definition"],
        created_at=created_at,
        updated_at=row["created_at"],
        updated_by=row["updated_by"],
    )


def _grant(row: Any) -> SourceGrant:
    return SourceGrant(
        tenant_id=row["tenant_id"],
        source=row["source"],
        tables=tuple(row["tables"] or ()),
        tenant_column=row["tenant_column"],
        created_at=row["created_at"],
    )
