"""The work queue in memory: leases, heartbeats, finishing once, reaping."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from reportd.domain.leases import CANCELED_MESSAGE, Heartbeat, ReapResult
from reportd.domain.models import Artifact, Progress, Report, ReportError
from reportd.domain.states import ReportState
from reportd.testing._state import MemoryState, ReportRow, oldest_first, shown

_CANCELED = ReportError(code="canceled", message=CANCELED_MESSAGE)


class MemoryQueue:
    """The ``WorkQueue`` port in memory; every write after ``claim`` needs the lease."""

    def __init__(self, state: MemoryState) -> None:
        self._state = state

    def claim(self, worker_id: str, lease_seconds: float) -> Report | None:
        with self._state.lock:
            queued = [r for r in self._state.reports.values() if _is(r, ReportState.CREATED)]
            if not queued:
                return None
            row = oldest_first(queued)[0]
            now = self._state.now()
            row.lease_owner = worker_id
            row.lease_expires_at = now + timedelta(seconds=lease_seconds)
            self._state.change(
                row,
                state=ReportState.IN_PROGRESS,
                attempts=row.report.attempts + 1,
                started_at=row.report.started_at or now,
            )
            return shown(row.report)

    def heartbeat(
        self, report_id: str, worker_id: str, lease_seconds: float, progress: Progress
    ) -> Heartbeat:
        with self._state.lock:
            row = self._held(report_id, worker_id)
            if row is None:
                return Heartbeat(alive=False, cancel_requested=False)
            row.lease_expires_at = self._state.now() + timedelta(seconds=lease_seconds)
            self._state.change(row, progress=progress)
            return Heartbeat(alive=True, cancel_requested=row.report.cancel_requested)

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
        with self._state.lock:
            row = self._held(report_id, worker_id)
            if row is None:
                return False
            now = self._state.now()
            _free(row)
            if row.report.cancel_requested:  # a cancel after the last heartbeat still wins
                self._state.change(
                    row,
                    state=ReportState.CANCELED,
                    error=_CANCELED,
                    finished_at=now,
                    expires_at=expires_at,
                )
                return False
            self._state.change(
                row,
                state=ReportState.FINISHED,
                progress=progress,
                finished_at=now,
                expires_at=expires_at,
                data_key=data_key or row.report.data_key,
                artifacts=(*row.report.artifacts, *(a.evolve(created_at=now) for a in files)),
            )
            return True

    def end(
        self,
        report_id: str,
        worker_id: str,
        state: ReportState,
        error: ReportError | None,
        expires_at: datetime | None = None,
    ) -> bool:
        with self._state.lock:
            row = self._held(report_id, worker_id)
            if row is None:
                return False
            _free(row)
            self._state.change(
                row, state=state, finished_at=self._state.now(), error=error, expires_at=expires_at
            )
            return True

    def release(self, report_id: str, worker_id: str) -> bool:
        with self._state.lock:
            row = self._held(report_id, worker_id)
            if row is None:
                return False
            _free(row)
            self._state.change(
                row,
                state=ReportState.CREATED,
                attempts=row.report.attempts - 1,
                progress=Progress(0, row.report.progress.total_rows),
            )
            return True

    def park(self, report_id: str, worker_id: str, retry_in: float) -> bool:
        with self._state.lock:
            row = self._held(report_id, worker_id)
            if row is None:
                return False
            row.lease_owner = None
            row.lease_expires_at = self._state.now() + timedelta(seconds=retry_in)
            self._state.change(row, progress=Progress(0, row.report.progress.total_rows))
            return True

    def reap(self, max_attempts: int, retention: float = 86_400) -> ReapResult:
        with self._state.lock:
            now = self._state.now()
            dead = [
                row
                for row in oldest_first(list(self._state.reports.values()))
                if _is(row, ReportState.IN_PROGRESS)
                and row.lease_expires_at is not None
                and row.lease_expires_at < now
            ]
            result = ReapResult(requeued=[], failed=[], canceled=[], retried=[])
            ended = {"finished_at": now, "expires_at": now + timedelta(seconds=retention)}
            for row in dead:
                self._reap_one(row, max_attempts, ended, result)
            return result

    def _reap_one(
        self, row: ReportRow, max_attempts: int, ended: dict[str, datetime], result: ReapResult
    ) -> None:
        """The SQL store's four updates, in its order: canceled, failed, parked, dead."""
        report = row.report
        if report.cancel_requested:
            row.lease_owner = None
            self._state.change(row, state=ReportState.CANCELED, error=_CANCELED, **ended)
            result.canceled.append(report.id)
        elif report.attempts >= max_attempts:
            row.lease_owner = None
            message = (
                f"The report's worker stopped responding {max_attempts} times; "
                "it will not be retried."
            )
            error = ReportError(code="attempts_exhausted", message=message)
            self._state.change(row, state=ReportState.FAILURE, error=error, **ended)
            result.failed.append(report.id)
        else:
            parked = row.lease_owner is None
            _free(row)
            progress = Progress(0, report.progress.total_rows)
            self._state.change(row, state=ReportState.CREATED, progress=progress)
            (result.retried if parked else result.requeued).append(report.id)

    def queue_depth(self) -> int:
        with self._state.lock:
            return sum(_is(r, ReportState.CREATED) for r in self._state.reports.values())

    def count_by_state(self) -> dict[str, int]:
        with self._state.lock:
            counts = {state.value: 0 for state in ReportState}
            for row in self._state.reports.values():
                counts[row.report.state.value] += 1
            return counts

    def _held(self, report_id: str, worker_id: str) -> ReportRow | None:
        row = self._state.reports.get(report_id)
        if row is None or row.lease_owner != worker_id or not _is(row, ReportState.IN_PROGRESS):
            return None
        return row


def _is(row: ReportRow, state: ReportState) -> bool:
    return row.report.state is state


def _free(row: ReportRow) -> None:
    row.lease_owner = None
    row.lease_expires_at = None
