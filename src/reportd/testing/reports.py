"""Reports in memory: the report repository, the report search and the subject index."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from datetime import datetime

from reportd.domain.errors import InvalidStateTransition
from reportd.domain.filters import Row, compile_predicate
from reportd.domain.formats import Format
from reportd.domain.leases import CANCELED_MESSAGE
from reportd.domain.listing import (
    REPORT_FIELDS,
    ReportPage,
    ReportQuery,
    ReportSelection,
    decode_cursor,
    encode_cursor,
)
from reportd.domain.models import Report, ReportError
from reportd.domain.states import FINAL_STATES, ReportState
from reportd.testing._state import MemoryState, ReportRow, newest_first, shown

_LIVE = frozenset({ReportState.CREATED, ReportState.IN_PROGRESS, ReportState.FINISHED})
_CANCELED = ReportError(code="canceled", message=CANCELED_MESSAGE)


class MemoryReports:
    """The ``ReportRepository`` port in memory."""

    def __init__(self, state: MemoryState) -> None:
        self._state = state

    def insert(self, report: Report) -> Report:
        with self._state.lock:
            return self._state.add_report(report)

    def get(self, report_id: str, tenant_id: str | None = None) -> Report:
        with self._state.lock:
            return self._state.read(report_id, tenant_id)

    def search(self, query: ReportQuery) -> ReportPage:
        wanted = {
            "state": query.state,
            "template_id": query.template_id,
            "schedule_id": query.schedule_id,
            "created_by": query.created_by,
        }
        with self._state.lock:
            rows = [
                row
                for row in self._state.reports.values()
                if row.report.tenant_id == query.tenant_id
                and all(v is None or getattr(row.report, k) == v for k, v in wanted.items())
            ]
            return _page(newest_first(rows), query.cursor, 0, query.limit, cursor_paged=True)

    def request_cancel(self, report_id: str, tenant_id: str, expires_at: datetime) -> Report:
        with self._state.lock:
            row = self._state.row(report_id, tenant_id)
            state = row.report.state
            if state is ReportState.CREATED:
                self._state.change(
                    row,
                    state=ReportState.CANCELED,
                    finished_at=self._state.now(),
                    expires_at=expires_at,
                    error=_CANCELED,
                )
            elif state is ReportState.IN_PROGRESS:
                self._state.change(row, cancel_requested=True)
            else:
                raise InvalidStateTransition(f"a {state} report cannot be canceled")
            return shown(row.report)

    def delete(self, report_id: str, tenant_id: str) -> tuple[Report, list[str]]:
        with self._state.lock:
            row = self._state.row(report_id, tenant_id)
            if row.report.state is ReportState.IN_PROGRESS:
                raise InvalidStateTransition("cancel a running report before deleting it")
            del self._state.reports[report_id]
            return shown(row.report), [a.storage_key for a in row.report.artifacts]

    def add_formats(self, report_id: str, formats: Sequence[Format]) -> Report:
        with self._state.lock:
            row = self._state.reports.get(report_id)
            if row is None or row.report.state is not ReportState.FINISHED:
                raise InvalidStateTransition("only a FINISHED report can get another format")
            self._state.change(row, state=ReportState.CREATED, formats=tuple(formats))
            return shown(row.report)

    def find_duplicate(self, tenant_id: str, dedup_key: str, since: datetime) -> Report | None:
        with self._state.lock:
            rows = [
                row
                for row in self._state.reports.values()
                if row.report.tenant_id == tenant_id
                and row.report.dedup_key == dedup_key
                and row.report.state in _LIVE
                and _created(row) >= since
            ]
            return shown(newest_first(rows)[0].report) if rows else None

    def expired(self, now: datetime, limit: int = 200) -> builtins.list[Report]:
        ended = FINAL_STATES - {ReportState.EXPIRED}
        with self._state.lock:
            rows = [
                row.report
                for row in self._state.reports.values()
                if row.report.state in ended
                and row.report.expires_at is not None
                and row.report.expires_at <= now
            ]
            rows.sort(key=lambda r: r.expires_at or now)
            return [shown(r) for r in rows[:limit]]

    def mark_expired(self, report: Report) -> bool:
        with self._state.lock:
            row = self._state.reports.get(report.id)
            if row is None or row.report.state is not report.state:
                return False
            self._state.change(row, state=ReportState.EXPIRED, artifacts=())
            return True


class MemorySearch:
    """The ``ReportSearchRepository`` port: conditions evaluated as the SQL compiler means them."""

    def __init__(self, state: MemoryState) -> None:
        self._state = state

    def search(self, selection: ReportSelection) -> ReportPage:
        tests = [compile_predicate(expr, REPORT_FIELDS) for expr in selection.where]
        with self._state.lock:
            rows = [
                row
                for row in self._state.reports.values()
                if row.report.tenant_id == selection.tenant_id
                and all(test(_attributes(row.report)) for test in tests)
            ]
            if selection.count_only:
                return ReportPage(results=[], total_count=len(rows), next_cursor=None)
            ordered = _ordered(newest_first(rows), selection.order)
            return _page(
                ordered,
                selection.cursor,
                selection.offset,
                selection.limit,
                cursor_paged=not selection.order,
            )


class MemorySubjects:
    """The ``SubjectRepository`` port in memory."""

    def __init__(self, state: MemoryState) -> None:
        self._state = state

    def newest(self, tenant_id: str, template_id: str, subject: str) -> str | None:
        with self._state.lock:
            rows = [
                row
                for row in self._state.reports.values()
                if (row.report.tenant_id, row.report.template_id, row.report.subject)
                == (tenant_id, template_id, subject)
            ]
            return newest_first(rows)[0].report.id if rows else None


def _created(row: ReportRow) -> datetime:
    assert row.report.created_at is not None
    return row.report.created_at


def _attributes(report: Report) -> Row:
    return {field.name: getattr(report, field.name) for field in REPORT_FIELDS.values()}


def _ordered(rows: list[ReportRow], order: Sequence[tuple[str, bool]]) -> list[ReportRow]:
    """Stable sorts from the last term to the first, NULLs last either way (as the SQL)."""
    for name, descending in reversed(order):
        present = [r for r in rows if getattr(r.report, name) is not None]
        missing = [r for r in rows if getattr(r.report, name) is None]
        present.sort(key=lambda r: getattr(r.report, name), reverse=descending)
        rows = present + missing
    return rows


def _page(
    rows: list[ReportRow], cursor: str | None, offset: int, limit: int, *, cursor_paged: bool
) -> ReportPage:
    """Count, then skip past the cursor and the offset, then one page (and the next cursor)."""
    total = len(rows)
    if cursor:
        created_at, last_id = decode_cursor(cursor)
        rows = [r for r in rows if (_created(r), r.report.id) < (created_at, last_id)]
    window = rows[offset : offset + limit + 1]
    found = [shown(r.report) for r in window[:limit]]
    more = len(window) > limit and cursor_paged
    return ReportPage(
        results=found, total_count=total, next_cursor=encode_cursor(found[-1]) if more else None
    )
