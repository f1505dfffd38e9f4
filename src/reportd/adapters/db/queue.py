"""The work queue: the reports table seen from the workers' side.

Inserting a report in ``CREATED`` is the enqueue (``ReportStore.insert``). A worker claims the
oldest one with a lease (``FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLite has one writer at a
time), renews the lease while it works, and finishes only while it still holds the lease, so a
report whose worker died and was handed to another can never be finished twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, and_, func, insert, select, update

from reportd.adapters.db.database import notify_queue, read_transaction, write_transaction
from reportd.adapters.db.rows import artifact_row, load_report
from reportd.adapters.db.schema import artifacts, reports
from reportd.domain.leases import CANCELED_MESSAGE, Heartbeat, ReapResult
from reportd.domain.models import Artifact, Progress, Report, ReportError
from reportd.domain.states import ReportState


def _now() -> datetime:
    return datetime.now(UTC)


class QueueStore:
    """The ``WorkQueue`` port over SQLite or PostgreSQL."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def queue_depth(self) -> int:
        with read_transaction(self.engine) as conn:
            count = select(func.count()).where(reports.c.state == ReportState.CREATED.value)
            return int(conn.execute(count).scalar_one())

    def count_by_state(self) -> dict[str, int]:
        """How many reports are in each state, every state present (for /metrics)."""
        query = select(reports.c.state, func.count()).group_by(reports.c.state)
        with read_transaction(self.engine) as conn:
            found = {str(row[0]): int(row[1]) for row in conn.execute(query)}
        return {state.value: found.get(state.value, 0) for state in ReportState}

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
            return load_report(conn, claimed, None)

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
                conn.execute(insert(artifacts), [artifact_row(a, now) for a in files])
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


def _held_by(report_id: str, worker_id: str) -> Any:
    return and_(
        reports.c.id == report_id,
        reports.c.lease_owner == worker_id,
        reports.c.state == ReportState.IN_PROGRESS.value,
    )
