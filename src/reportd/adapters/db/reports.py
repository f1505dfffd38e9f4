"""Reports and their artifacts; the reports table is also the work queue.

Inserting a report in ``CREATED`` is the enqueue. A worker claims the oldest one with a
lease (``FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLite has one writer at a time), renews
the lease while it works, and finishes only while it still holds the lease, so a report
whose worker died and was handed to another can never be finished twice.
"""

from __future__ import annotations

import base64
import builtins
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, and_, delete, func, insert, or_, select, update
from sqlalchemy.sql import Select

from reportd.adapters.db.database import notify_queue, read_transaction, write_transaction
from reportd.adapters.db.schema import artifacts, reports
from reportd.domain.errors import InvalidStateTransition, ReportNotFound, ValidationError
from reportd.domain.formats import Format, Packaging
from reportd.domain.models import Artifact, Progress, Report, ReportError
from reportd.domain.states import FINAL_STATES, ReportState


@dataclass(frozen=True, slots=True)
class ReportQuery:
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
class Heartbeat:
    alive: bool  # False: the lease was lost, stop without finishing
    cancel_requested: bool


@dataclass(frozen=True, slots=True)
class ReapResult:
    requeued: list[str]
    failed: list[str]
    canceled: list[str]
    retried: list[str] = field(default_factory=list)  # parked by ``park``, back in the queue


CANCELED_MESSAGE = "The report was canceled."


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
            conn.execute(insert(reports).values(**report_row(stored), updated_at=now))
            notify_queue(conn)
        return stored

    def request_cancel(self, report_id: str, tenant_id: str, expires_at: datetime) -> Report:
        """CREATED goes straight to CANCELED; IN_PROGRESS is flagged for its worker."""
        with write_transaction(self.engine) as conn:
            report = self._get(conn, report_id, tenant_id)
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
            return self._get(conn, report_id, tenant_id)

    def delete(self, report_id: str, tenant_id: str) -> tuple[Report, list[str]]:
        """Remove the report; returns it and the storage keys of its files to delete."""
        with write_transaction(self.engine) as conn:
            report = self._get(conn, report_id, tenant_id)
            if report.state is ReportState.IN_PROGRESS:
                raise InvalidStateTransition("cancel a running report before deleting it")
            conn.execute(delete(artifacts).where(artifacts.c.report_id == report_id))
            conn.execute(delete(reports).where(reports.c.id == report_id))
        return report, [a.storage_key for a in report.artifacts]

    # -- reads ---------------------------------------------------------------------------

    def get(self, report_id: str, tenant_id: str | None = None) -> Report:
        with read_transaction(self.engine) as conn:
            return self._get(conn, report_id, tenant_id)

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
            created_at, last_id = _decode_cursor(query.cursor)
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
            found = self._with_artifacts(conn, [_report(r) for r in rows[: query.limit]])
        cursor = _encode_cursor(found[-1]) if len(rows) > query.limit else None
        return ReportPage(results=found, total_count=total, next_cursor=cursor)

    def queue_depth(self) -> int:
        with read_transaction(self.engine) as conn:
            count = select(func.count()).where(reports.c.state == ReportState.CREATED.value)
            return int(conn.execute(count).scalar_one())

    def count_by_state(self) -> dict[str, int]:
        """How many reports are in each state, every state present (for /metrics)."""
        query = select(reports.c.state, func.count()).group_by(reports.c.state)
        with read_transaction(self.engine) as conn:
            found = {state: int(n) for state, n in conn.execute(query).tuples()}
        return {state.value: found.get(state.value, 0) for state in ReportState}

    # -- the worker's side ---------------------------------------------------------------

    def claim(self, worker_id: str, lease_seconds: float) -> Report | None:
        now = _now()
        oldest = (
            select(reports.c.id)
            .where(reports.c.state == ReportState.CREATED.value)
            .order_by(reports.c.created_at, reports.c.id)
            .limit(1)
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        claim = (
            update(reports)
            .where(reports.c.id == oldest, reports.c.state == ReportState.CREATED.value)
            .values(
                state=ReportState.IN_PROGRESS.value,
                lease_owner=worker_id,
                lease_expires_at=now + timedelta(seconds=lease_seconds),
                attempts=reports.c.attempts + 1,
                started_at=func.coalesce(reports.c.started_at, now),
                updated_at=now,
            )
            .returning(reports.c.id)
        )
        with write_transaction(self.engine) as conn:
            claimed = conn.execute(claim).scalar_one_or_none()
            if claimed is None:
                return None
            return self._get(conn, claimed, None)

    def heartbeat(
        self,
        report_id: str,
        worker_id: str,
        lease_seconds: float,
        progress: Progress,
    ) -> Heartbeat:
        now = _now()
        renew = (
            update(reports)
            .where(_held_by(report_id, worker_id))
            .values(
                lease_expires_at=now + timedelta(seconds=lease_seconds),
                rows=progress.rows,
                total_rows=progress.total_rows,
                updated_at=now,
            )
            .returning(reports.c.cancel_requested)
        )
        with write_transaction(self.engine) as conn:
            cancel = conn.execute(renew).scalar_one_or_none()
        if cancel is None:
            return Heartbeat(alive=False, cancel_requested=False)
        return Heartbeat(alive=True, cancel_requested=bool(cancel))

    def finish(
        self,
        report_id: str,
        worker_id: str,
        files: Sequence[Artifact],
        progress: Progress,
        expires_at: datetime,
        *,
        data_key: str | None = None,
    ) -> bool:
        """Record the files and FINISHED in one transaction, only while holding the lease.

        A cancel that arrived after the last heartbeat still wins: the report ends CANCELED
        and False is returned, like a lost lease, so the caller removes its files.
        """
        now = _now()
        with write_transaction(self.engine) as conn:
            done = conn.execute(
                update(reports)
                .where(_held_by(report_id, worker_id), reports.c.cancel_requested.is_(False))
                .values(
                    state=ReportState.FINISHED.value,
                    rows=progress.rows,
                    total_rows=progress.total_rows,
                    finished_at=now,
                    expires_at=expires_at,
                    updated_at=now,
                    lease_owner=None,
                    lease_expires_at=None,
                    **({"data_key": data_key} if data_key else {}),
                )
            )
            if done.rowcount != 1:
                conn.execute(
                    update(reports)
                    .where(_held_by(report_id, worker_id))
                    .values(
                        state=ReportState.CANCELED.value,
                        error_code="canceled",
                        error_message=CANCELED_MESSAGE,
                        finished_at=now,
                        expires_at=expires_at,
                        updated_at=now,
                        lease_owner=None,
                        lease_expires_at=None,
                    )
                )
                return False
            if files:
                conn.execute(insert(artifacts), [_artifact_row(a, now) for a in files])
        return True

    def end(
        self,
        report_id: str,
        worker_id: str,
        state: ReportState,
        error: ReportError | None,
        expires_at: datetime | None = None,
    ) -> bool:
        """End a run badly (FAILURE, TIMEOUT, CANCELED), only while holding the lease."""
        now = _now()
        with write_transaction(self.engine) as conn:
            result = conn.execute(
                update(reports)
                .where(_held_by(report_id, worker_id))
                .values(
                    state=state.value,
                    finished_at=now,
                    updated_at=now,
                    error_code=error.code if error else None,
                    error_message=error.message if error else None,
                    expires_at=expires_at,
                    lease_owner=None,
                    lease_expires_at=None,
                )
            )
        return result.rowcount == 1

    def release(self, report_id: str, worker_id: str) -> bool:
        """Hand a report back to the queue (graceful stop); the attempt does not count."""
        with write_transaction(self.engine) as conn:
            result = conn.execute(
                update(reports)
                .where(_held_by(report_id, worker_id))
                .values(
                    state=ReportState.CREATED.value,
                    attempts=reports.c.attempts - 1,
                    lease_owner=None,
                    lease_expires_at=None,
                    rows=0,
                    updated_at=_now(),
                )
            )
            notify_queue(conn)
        return result.rowcount == 1

    def park(self, report_id: str, worker_id: str, retry_in: float) -> bool:
        """Give up this attempt and retry after ``retry_in`` seconds (storage was away).

        The report stays IN_PROGRESS with no owner and a lease that runs out at the retry
        time; ``reap`` then puts it back in the queue. The attempt counts.
        """
        with write_transaction(self.engine) as conn:
            result = conn.execute(
                update(reports)
                .where(_held_by(report_id, worker_id))
                .values(
                    lease_owner=None,
                    lease_expires_at=_now() + timedelta(seconds=retry_in),
                    rows=0,
                    updated_at=_now(),
                )
            )
        return result.rowcount == 1

    def reap(self, max_attempts: int, retention: float = 86_400) -> ReapResult:
        """Leases that ran out: back to the queue, or FAILURE once attempts are spent."""
        now = _now()
        dead = and_(
            reports.c.state == ReportState.IN_PROGRESS.value, reports.c.lease_expires_at < now
        )
        ended = {
            "finished_at": now,
            "updated_at": now,
            "lease_owner": None,
            "expires_at": now + timedelta(seconds=retention),
        }
        with write_transaction(self.engine) as conn:
            canceled = conn.execute(
                update(reports)
                .where(dead, reports.c.cancel_requested.is_(True))
                .values(
                    state=ReportState.CANCELED.value,
                    error_code="canceled",
                    error_message=CANCELED_MESSAGE,
                    **ended,
                )
                .returning(reports.c.id)
            ).scalars()
            canceled_ids = list(canceled)
            failed = conn.execute(
                update(reports)
                .where(dead, reports.c.attempts >= max_attempts)
                .values(
                    state=ReportState.FAILURE.value,
                    error_code="attempts_exhausted",
                    error_message=(
                        f"The report's worker stopped responding {max_attempts} times; "
                        "it will not be retried."
                    ),
                    **ended,
                )
                .returning(reports.c.id)
            ).scalars()
            failed_ids = list(failed)
            back = {"state": ReportState.CREATED.value, "lease_expires_at": None, "rows": 0}
            retried = conn.execute(
                update(reports)
                .where(dead, reports.c.lease_owner.is_(None))  # parked: not a dead worker
                .values(**back, updated_at=now)
                .returning(reports.c.id)
            ).scalars()
            retried_ids = list(retried)
            requeued = conn.execute(
                update(reports)
                .where(dead)
                .values(**back, lease_owner=None, updated_at=now)
                .returning(reports.c.id)
            ).scalars()
            requeued_ids = list(requeued)
            if requeued_ids or retried_ids:
                notify_queue(conn)
            return ReapResult(
                requeued=requeued_ids,
                failed=failed_ids,
                canceled=canceled_ids,
                retried=retried_ids,
            )

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
            return self._get(conn, report_id, None)

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
            return None if found is None else self._get(conn, found, tenant_id)

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
            return self._with_artifacts(conn, [_report(r) for r in rows])

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

    # -- helpers -------------------------------------------------------------------------

    def _get(self, conn: Connection, report_id: str, tenant_id: str | None) -> Report:
        query: Select[Any] = select(reports).where(reports.c.id == report_id)
        if tenant_id is not None:
            query = query.where(reports.c.tenant_id == tenant_id)
        row = conn.execute(query).mappings().first()
        if row is None:
            raise ReportNotFound(f"report {report_id!r} not found")
        return self._with_artifacts(conn, [_report(row)])[0]

    def _with_artifacts(
        self, conn: Connection, found: builtins.list[Report]
    ) -> builtins.list[Report]:
        if not found:
            return found
        ids = [r.id for r in found]
        rows = conn.execute(
            select(artifacts)
            .where(artifacts.c.report_id.in_(ids))
            .order_by(artifacts.c.report_id, artifacts.c.id)
        ).mappings()
        by_report: dict[str, list[Artifact]] = {}
        for row in rows:
            by_report.setdefault(row["report_id"], []).append(_artifact(row))
        return [r.evolve(artifacts=tuple(by_report.get(r.id, ()))) for r in found]


def _held_by(report_id: str, worker_id: str) -> Any:
    return and_(
        reports.c.id == report_id,
        reports.c.lease_owner == worker_id,
        reports.c.state == ReportState.IN_PROGRESS.value,
    )


def report_row(report: Report) -> dict[str, Any]:
    return {
        "id": report.id,
        "tenant_id": report.tenant_id,
        "template_id": report.template_id,
        "name": report.name,
        "state": report.state.value,
        "options": dict(report.options),
        "fields": list(report.fields),
        "filter": report.filter,
        "order_by": list(report.order_by),
        "formats": [f.value for f in report.formats],
        "packaging": report.packaging.value,
        "zip_password": report.zip_password,
        "storage_id": report.storage_id,
        "rows": report.progress.rows,
        "total_rows": report.progress.total_rows,
        "created_by": report.created_by,
        "schedule_id": report.schedule_id,
        "callback_url": report.callback_url,
        "expires_in": report.expires_in,
        "created_at": report.created_at,
        "started_at": report.started_at,
        "finished_at": report.finished_at,
        "expires_at": report.expires_at,
        "error_code": report.error.code if report.error else None,
        "error_message": report.error.message if report.error else None,
        "attempts": report.attempts,
        "cancel_requested": report.cancel_requested,
        "scheduled_for": report.scheduled_for,
        "dedup_key": report.dedup_key,
        "subject": report.subject,
        "data_key": report.data_key,
    }


def _report(row: Any) -> Report:
    error = None
    if row["error_code"]:
        error = ReportError(code=row["error_code"], message=row["error_message"] or "")
    return Report(
        id=row["id"],
        tenant_id=row["tenant_id"],
        template_id=row["template_id"],
        name=row["name"],
        state=ReportState(row["state"]),
        formats=tuple(Format(f) for f in row["formats"]),
        fields=tuple(row["fields"]),
        options=row["options"],
        filter=row["filter"],
        order_by=tuple(row["order_by"]),
        packaging=Packaging(row["packaging"]),
        zip_password=row["zip_password"],
        storage_id=row["storage_id"],
        progress=Progress(rows=row["rows"], total_rows=row["total_rows"]),
        created_by=row["created_by"],
        schedule_id=row["schedule_id"],
        callback_url=row["callback_url"],
        expires_in=row["expires_in"],
        created_at=row["created_at"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        expires_at=row["expires_at"],
        error=error,
        attempts=row["attempts"],
        cancel_requested=bool(row["cancel_requested"]),
        scheduled_for=row["scheduled_for"],
        dedup_key=row["dedup_key"],
        subject=row["subject"],
        data_key=row["data_key"],
    )


def _artifact_row(artifact: Artifact, now: datetime) -> dict[str, Any]:
    return {
        "report_id": artifact.report_id,
        "format": artifact.format.value,
        "packaging": artifact.packaging.value,
        "part": artifact.part,
        "filename": artifact.filename,
        "mime_type": artifact.mime_type,
        "size": artifact.size,
        "sha256": artifact.sha256,
        "storage_key": artifact.storage_key,
        "rows": artifact.rows,
        "zip_password": artifact.zip_password,
        "created_at": now,
    }


def _artifact(row: Any) -> Artifact:
    return Artifact(
        report_id=row["report_id"],
        format=Format(row["format"]),
        packaging=Packaging(row["packaging"]),
        filename=row["filename"],
        mime_type=row["mime_type"],
        size=row["size"],
        sha256=row["sha256"],
        storage_key=row["storage_key"],
        part=row["part"],
        rows=row["rows"],
        zip_password=row["zip_password"],
        created_at=row["created_at"],
    )


def _encode_cursor(report: Report) -> str:
    assert report.created_at is not None
    raw = f"{report.created_at.isoformat()}|{report.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, report_id = raw.split("|", 1)
        return datetime.fromisoformat(stamp), report_id
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationError("cursor is not valid", details={"cursor": cursor}) from exc
