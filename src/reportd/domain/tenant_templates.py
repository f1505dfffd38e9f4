"""Tenant templates and source grants: what a tenant may define, and over which data.

A tenant template is kept as the definition the tenant sent (the YAML file's model as JSON),
one immutable row per version: a report records the version it ran, so editing the template
never changes what an old report was made of. A source grant is the operator's word that a
tenant may write queries over a source, and how those queries are held to its own rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from reportd.domain.models import Evolvable

__all__ = ["SourceGrant", "TenantTemplate"]


@dataclass(frozen=True, slots=True)
class SourceGrant(Evolvable):
    """A tenant may use ``source`` in its templates.

    ``tables``: the only tables its queries may name (empty: any plain table name).
    ``tenant_column``: when set, every table a query names is read as
    ``(SELECT * FROM t WHERE tenant_column = :tenant_id)``, so the tenant sees its rows only.
    """

    tenant_id: str
    source: str
    tables: tuple[str, ...] = ()
    tenant_column: str | None = None
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class TenantTemplate(Evolvable):
    """One version of a tenant's template: the definition as sent, and who made it when."""

    tenant_id: str
    id: str
    version: int
    definition: Mapping[str, Any] = field(default_factory=dict)
    created_at: datetime | None = None  # when version 1 was made
    updated_at: datetime | None = None  # when this version was made
    updated_by: str | None = None
