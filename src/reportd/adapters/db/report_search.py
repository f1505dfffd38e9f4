"""Reports found by filter conditions over their own columns, sorted, paged and counted.

The conditions arrive as ASTs over ``REPORT_FIELDS`` (whose field names are the ``reports``
columns), already checked by the caller; each is compiled by ``reportd.domain.filters``, so
every value in it is a bound parameter. Rows are always limited to one tenant here.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, and_, bindparam, func, or_, select, text
from sqlalchemy.sql import ColumnElement

from reportd.adapters.db.database import read_transaction
from reportd.adapters.db.rows import report_of, with_artifacts
from reportd.adapters.db.schema import UTCDateTime, reports
from reportd.domain.filters import SqlFragment, compile_expr
from reportd.domain.listing import (
    REPORT_FIELDS,
    ReportPage,
    ReportSelection,
    decode_cursor,
    encode_cursor,
)


class ReportSearchStore:
    """The ``ReportSearchRepository`` port over SQLite or PostgreSQL."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def search(self, selection: ReportSelection) -> ReportPage:
        conditions = [reports.c.tenant_id == selection.tenant_id]
        for n, expr in enumerate(selection.where):
            conditions.append(_where(compile_expr(expr, REPORT_FIELDS, param_prefix=f"_w{n}_")))
        count = select(func.count()).select_from(reports).where(*conditions)
        with read_transaction(self.engine) as conn:
            total = int(conn.execute(count).scalar_one())
            if selection.count_only:
                return ReportPage(results=[], total_count=total, next_cursor=None)
            query = select(reports).where(*conditions, *_after(selection.cursor))
            query = query.order_by(*_ordering(selection.order))
            query = query.offset(selection.offset).limit(selection.limit + 1)
            rows = conn.execute(query).mappings().all()
            page = [report_of(row) for row in rows[: selection.limit]]
            found = with_artifacts(conn, page)
        more = len(rows) > selection.limit and not selection.order
        return ReportPage(
            results=found,
            total_count=total,
            next_cursor=encode_cursor(found[-1]) if more else None,
        )


def _where(fragment: SqlFragment) -> ColumnElement[bool]:
    """The fragment as a clause; datetimes are bound as the columns store them (UTC)."""
    params = [
        bindparam(name, value, type_=UTCDateTime())
        if isinstance(value, datetime)
        # A bare bindparam infers its type from the value, as text() would.
        else bindparam(name, value)
        for name, value in fragment.params.items()
    ]
    clause: Any = text(fragment.sql).bindparams(*params)
    return clause  # type: ignore[no-any-return]


def _after(cursor: str | None) -> Sequence[ColumnElement[bool]]:
    if not cursor:
        return ()
    created_at, last_id = decode_cursor(cursor)
    return (
        or_(
            reports.c.created_at < created_at,
            and_(reports.c.created_at == created_at, reports.c.id < last_id),
        ),
    )


def _ordering(order: Sequence[tuple[str, bool]]) -> list[Any]:
    """The asked order, NULLs last on both databases, then newest first as the tie-break."""
    terms: list[Any] = []
    for name, descending in order:
        column = reports.c[name]
        terms.append((column.desc() if descending else column.asc()).nulls_last())
    return [*terms, reports.c.created_at.desc(), reports.c.id.desc()]
