"""Lists of reports: what a caller asks for (``ReportQuery``, ``ReportSelection``) and gets back.

Both stores (SQL and in-memory) page the default order, newest first, by a keyset cursor on
``(created_at, id)``; its encoding lives here so that a cursor from one page is read by the
next whatever answered it. A search names reports' attributes as filter fields
(``REPORT_FIELDS``); the SQL store compiles its conditions, the in-memory one evaluates them.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from reportd.domain.errors import ValidationError
from reportd.domain.filters import Expr
from reportd.domain.formats import FieldType
from reportd.domain.models import Field, Report

__all__ = [
    "REPORT_FIELDS",
    "ReportPage",
    "ReportQuery",
    "ReportSelection",
    "decode_cursor",
    "encode_cursor",
]


def _attribute(name: str, kind: FieldType = FieldType.STRING) -> Field:
    return Field(name=name, type=kind, filterable=True, sortable=True)


# What a search may name -> the report attribute (and reports column) it is;
# ``report_id`` is SpaceONE's name for ``id``.
REPORT_FIELDS: Final[Mapping[str, Field]] = {
    "id": _attribute("id"),
    "report_id": _attribute("id"),
    "name": _attribute("name"),
    "state": _attribute("state"),
    "template_id": _attribute("template_id"),
    "created_by": _attribute("created_by"),
    "schedule_id": _attribute("schedule_id"),
    "storage_id": _attribute("storage_id"),
    "created_at": _attribute("created_at", FieldType.DATETIME),
    "started_at": _attribute("started_at", FieldType.DATETIME),
    "finished_at": _attribute("finished_at", FieldType.DATETIME),
    "expires_at": _attribute("expires_at", FieldType.DATETIME),
}


@dataclass(frozen=True, slots=True)
class ReportQuery:
    """The native listing: equality on a few attributes, newest first, cursor-paged."""

    tenant_id: str
    state: str | None = None
    template_id: str | None = None
    schedule_id: str | None = None
    created_by: str | None = None
    limit: int = 50
    cursor: str | None = None


@dataclass(frozen=True, slots=True)
class ReportPage:
    results: list[Report]
    total_count: int
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class ReportSelection:
    """Which reports of a tenant, in what order, which page.

    ``where`` holds conditions over ``REPORT_FIELDS``, all of which must hold, each already
    checked by ``compile_expr`` (so errors point into the caller's text, not the store's).
    ``order`` holds attribute names with True for descending, NULLs last; empty means newest
    first, the only order a ``cursor`` can page (keyset on created_at, id).
    """

    tenant_id: str
    where: tuple[Expr, ...] = ()
    order: tuple[tuple[str, bool], ...] = ()
    offset: int = 0
    limit: int = 100
    cursor: str | None = None
    count_only: bool = False


def encode_cursor(report: Report) -> str:
    """The cursor of the page after ``report`` (a stored report: it has ``created_at``)."""
    assert report.created_at is not None
    raw = f"{report.created_at.isoformat()}|{report.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """``(created_at, id)`` of the last report of the previous page; a bad cursor is a 400."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, report_id = raw.split("|", 1)
        return datetime.fromisoformat(stamp), report_id
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationError("cursor is not valid", details={"cursor": cursor}) from exc
