"""Reports and their artifacts: the ``ReportRepository`` port over SQLite or PostgreSQL.

The reports table is also the work queue; its workers' side is ``reportd.adapters.db.queue``.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import Engine, and_, delete, func, or_, select, update

from reportd.adapters.db.database import notify_queue, read_transaction, write_transaction
from reportd.adapters.db.rows import (
    insert_report,
    load_report,
    report_of,
    report_row,
    with_artifacts,
)
from reportd.adapters.db.schema import artifacts, report_deliveries, reports
from reportd.domain.errors import InvalidStateTransition
from reportd.domain.formats import Format
from reportd.domain.leases import CANCELED_MESSAGE
from reportd.domain.listing import ReportPage, ReportQuery, decode_cursor, encode_cursor
from reportd.domain.models import Report
from reportd.domain.states import FINAL_STATES, ReportState

__all__ = ["ReportStore", "report_row"]


def _now() -> datetime:
    return datetime.now(UTC)


class ReportStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # -- writes from the API -------------------------------------------------------------

    def insert(self, report: Report) -> Report:
        now = _now()
        stored = report.evolve(created_at=report.created_at or now)
        with write_transaction(self.engine) as conn:
            stored = insert_report(conn, stored, now)
            notify_queue(conn)
        return stored

    def request_cancel(self, report_id: str, tenant_id: str, expires_at: datetime) -> Report:
        """CREATED goes straight to CANCELED; IN_PROGRESS is flagged for its worker."""
        with write_transaction(self.engine) as conn:
            report = load_report(conn, report_id, tenant_id)
            if report.state is ReportState.CREATED:
                conn.execute(
                    update(reports)
                    .where(reports.c.id == report_id)
                    .values(
                        state=ReportState.CANCELED.value,
                        finished_at=_now(),
                        updated_at=_now(),
                        expires_at=expires_at,
                        error_code="canceled",
                        error_message=CANCELED_MESSAGE,
                    )
                )
            elif report.state is ReportState.IN_PROGRESS:
                conn.execute(
                    update(reports)
                    .where(reports.c.id == report_id)
                    .values(cancel_requested=True, updated_at=_now())
                )
            else:
                raise InvalidStateTransition(f"a {report.state} report cannot be canceled")
            return load_report(conn, report_id, tenant_id)

    def delete(self, report_id: str, tenant_id: str) -> tuple[Report, list[str]]:
        """Remove the report; returns it and the storage keys of its files to delete."""
        with write_transaction(self.engine) as conn:
            report = load_report(conn, report_id, tenant_id)
            if report.state is ReportState.IN_PROGRESS:
                raise InvalidStateTransition("cancel a running report before deleting it")
            conn.execute(delete(artifacts).where(artifacts.c.report_id == report_id))
            conn.execute(
                delete(report_deliveries).where(report_deliveries.c.report_id == report_id)
            )
            conn.execute(delete(reports).where(reports.c.id == report_id))
        return report, [a.storage_key for a in report.artifacts]

    # -- reads ---------------------------------------------------------------------------

    def get(self, report_id: str, tenant_id: str | None = None) -> Report:
        with read_transaction(self.engine) as conn:
            return load_report(conn, report_id, tenant_id)

    def search(self, query: ReportQuery) -> ReportPage:
        conditions = [reports.c.tenant_id == query.tenant_id]
        for column, value in (
            (reports.c.state, query.state),
            (reports.c.template_id, query.template_id),
            (reports.c.schedule_id, query.schedule_id),
            (reports.c.created_by, query.created_by),
        ):
            if value is not None:
                conditions.append(column == value)
        page = select(reports).where(*conditions)
        if query.cursor:
            created_at, last_id = decode_cursor(query.cursor)
            page = page.where(
                or_(
                    reports.c.created_at < created_at,
                    and_(reports.c.created_at == created_at, reports.c.id < last_id),
                )
            )
        page = page.order_by(reports.c.created_at.desc(), reports.c.id.desc())
        with read_transaction(self.engine) as conn:
            total = conn.execute(select(func.count()).where(*conditions)).scalar_one()
            rows = conn.execute(page.limit(query.limit + 1)).mappings().all()
            found = with_artifacts(conn, [report_of(r) for r in rows[: query.limit]])
        cursor = encode_cursor(found[-1]) if len(rows) > query.limit else None
        return ReportPage(results=found, total_count=total, next_cursor=cursor)

    def add_formats(self, report_id: str, formats: Sequence[Format]) -> Report:
        """Back to the queue with more formats; its files so far stay and stay downloadable."""
        with write_transaction(self.engine) as conn:
            result = conn.execute(
                update(reports)
                .where(reports.c.id == report_id, reports.c.state == ReportState.FINISHED.value)
                .values(
                    state=ReportState.CREATED.value,
                    formats=[f.value for f in formats],
                    updated_at=_now(),
                )
            )
            if result.rowcount != 1:
                raise InvalidStateTransition("only a FINISHED report can get another format")
            notify_queue(conn)
            return load_report(conn, report_id, None)

    def find_duplicate(self, tenant_id: str, dedup_key: str, since: datetime) -> Report | None:
        """The newest live report of the tenant made from the same request since ``since``."""
        live = [
            ReportState.CREATED.value,
            ReportState.IN_PROGRESS.value,
            ReportState.FINISHED.value,
        ]
        query = (
            select(reports.c.id)
            .where(
                reports.c.tenant_id == tenant_id,
                reports.c.dedup_key == dedup_key,
                reports.c.created_at >= since,
                reports.c.state.in_(live),
            )
            .order_by(reports.c.created_at.desc())
            .limit(1)
        )
        with read_transaction(self.engine) as conn:
            found = conn.execute(query).scalar_one_or_none()
            return None if found is None else load_report(conn, found, tenant_id)

    def expired(self, now: datetime, limit: int = 200) -> builtins.list[Report]:
        """Ended reports whose retention ran out, oldest first."""
        ended = [s.value for s in FINAL_STATES if s is not ReportState.EXPIRED]
        query = (
            select(reports)
            .where(reports.c.state.in_(ended), reports.c.expires_at <= now)
            .order_by(reports.c.expires_at)
            .limit(limit)
        )
        with read_transaction(self.engine) as conn:
            rows = conn.execute(query).mappings().all()
            return with_artifacts(conn, [report_of(r) for r in rows])

    def mark_expired(self, report: Report) -> bool:
        """EXPIRED, and the artifacts' rows gone; the caller deletes the files first."""
        now = _now()
        with write_transaction(self.engine) as conn:
            result = conn.execute(
                update(reports)
                .where(reports.c.id == report.id, reports.c.state == report.state.value)
                .values(state=ReportState.EXPIRED.value, updated_at=now)
            )
            if result.rowcount != 1:
                return False
            conn.execute(delete(artifacts).where(artifacts.c.report_id == report.id))
        return True
