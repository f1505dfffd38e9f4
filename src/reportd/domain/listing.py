"""Lists of reports: what a caller asks for (``ReportQuery``, ``ReportSelection``) and gets back.

Both stores (SQL and in-memory) page the default order, newest first, by a keyset cursor on
``(created_at, id)``; its encoding lives here so that a cursor from one page is read by the
next whatever answered it.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import datetime

from reportd.domain.errors import ValidationError
from reportd.domain.filters import SqlFragment
from reportd.domain.models import Report

__all__ = ["ReportPage", "ReportQuery", "ReportSelection", "decode_cursor", "encode_cursor"]


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

    ``order`` holds column names with True for descending; empty means newest first, the only
    order a ``cursor`` can page (keyset on created_at, id).
    """

    tenant_id: str
    where: SqlFragment = field(default_factory=lambda: SqlFragment("", {}))
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
