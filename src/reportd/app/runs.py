"""Runs: what a worker does with the queue. Claim a report under a lease, keep the lease alive,
generate the files, store them, and record how the run ended; hand back or requeue on trouble.

Files are put in storage before the end is recorded, under ``<tenant>/<report>/<attempt>/``,
and the report is set FINISHED in the same transaction as its artifacts. A lease lost on the
way (another worker has the report now) deletes what this attempt stored, so no report ever
holds files of two attempts. A database outage is not recorded at all: the lease runs out and
the report is run again. An unavailable storage parks the report with a backoff.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from reportd.app.catalog import Catalog, FileStorage
from reportd.app.generator import Generator, OutputFile, RunControl, RunResult, RunSpec
from reportd.app.requests import RequestChecker
from reportd.app.retention import FAILED_RETENTION, Retention
from reportd.domain.errors import (
    DatabaseUnavailable,
    ReportdError,
    ReportTimedOut,
    StorageUnavailable,
)
from reportd.domain.models import Artifact, Report, ReportError
from reportd.domain.states import ReportState

if TYPE_CHECKING:
    from reportd.app.ports import WorkQueue
    from reportd.domain.leases import Heartbeat, ReapResult

__all__ = ["FAILED_RETENTION", "RunOptions", "Runs"]

log = logging.getLogger("reportd.app.runs")

STORAGE_RETRY_FIRST = 1.0  # seconds before re-running a report whose storage was away; doubles
STORAGE_RETRY_MAX = 30.0


@dataclass(frozen=True, slots=True)
class RunOptions:
    lease_seconds: float = 30.0
    max_attempts: int = 3
    # Where each attempt's folder is made (the process' scratch folder); None: system temp.
    temp_dir: Path | None = None


class Runs:
    def __init__(
        self,
        *,
        queue: WorkQueue,
        catalog: Catalog,
        generator: Generator,
        retention: Retention,
        checker: RequestChecker,
        options: RunOptions | None = None,
    ) -> None:
        self._queue = queue
        self._catalog = catalog
        self._generator = generator
        self._retention = retention
        self._checker = checker
        self.options = options or RunOptions()

    # -- the queue protocol --------------------------------------------------------------

    def claim(self, worker_id: str) -> Report | None:
        return self._queue.claim(worker_id, self.options.lease_seconds)

    def heartbeat(self, report_id: str, worker_id: str, control: RunControl) -> Heartbeat:
        return self._queue.heartbeat(
            report_id, worker_id, self.options.lease_seconds, control.progress
        )

    def release(self, report_id: str, worker_id: str) -> bool:
        return self._queue.release(report_id, worker_id)

    def reap(self) -> ReapResult:
        """Leases that ran out: back to the queue while attempts remain, else FAILURE."""
        result = self._queue.reap(self.options.max_attempts, FAILED_RETENTION)
        for report_id in result.requeued:
            log.warning(
                "lease expired; report requeued",
                extra={"action": "requeue", "report_id": report_id},
            )
        return result

    def deadline(self, report: Report) -> float | None:
        """When the run is stopped; None when its template is gone (the run then fails the
        report with ``template_not_found`` instead of the slot dying on it)."""
        try:
            template = self._catalog.of_report(report)
        except ReportdError:  # gone, or a tenant's no longer granted: the run says which
            return None
        started = report.started_at or datetime.now(UTC)
        return started.timestamp() + template.timeout

    def expire_due(self, now: datetime | None = None) -> list[str]:
        return self._retention.expire_due(now)

    # -- one run -------------------------------------------------------------------------

    def run_report(self, report: Report, worker_id: str, control: RunControl) -> ReportState:
        """Generate a claimed report and record how it ended; never raises for a bad run."""
        prefix = f"{report.id}-{report.attempts}-"  # each attempt's files apart, and removed
        workdir = Path(tempfile.mkdtemp(prefix=prefix, dir=self.options.temp_dir))
        try:
            result = self._generate(report, workdir, control)
            return self._store_files(report, worker_id, result, control)
        except Exception as exc:  # every way out must end the report, never leave it stuck
            shutil.rmtree(workdir, ignore_errors=True)  # partial files go before the end is told
            return self._after_error(report, worker_id, control, exc)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)

    def _after_error(
        self, report: Report, worker_id: str, control: RunControl, exc: Exception
    ) -> ReportState:
        if isinstance(exc, DatabaseUnavailable):
            raise exc  # nothing can be recorded: the lease runs out and the report is re-run
        if isinstance(exc, StorageUnavailable) and control.stopping is None:
            return self._retry_later(report, worker_id, exc)
        if control.stopping is not None:
            # Canceled, timed out or handed back; an interrupted query surfaces as an error.
            if control.hand_back:
                self.release(report.id, worker_id)
                return ReportState.CREATED
            reason = control.stopping()
            timed_out = isinstance(reason, ReportTimedOut)
            state = ReportState.TIMEOUT if timed_out else ReportState.CANCELED
            return self._end(report, worker_id, state, reason)
        if not isinstance(exc, ReportdError):
            log.exception("report failed", extra={"action": "crash", "report_id": report.id})
            exc = ReportdError(f"internal error: {type(exc).__name__}")
        return self._end(report, worker_id, ReportState.FAILURE, exc)

    def _retry_later(self, report: Report, worker_id: str, exc: StorageUnavailable) -> ReportState:
        """Storage was away: back to the queue after a backoff while attempts remain."""
        if report.attempts >= self.options.max_attempts:
            gave_up = StorageUnavailable(f"{exc.message}; gave up after {report.attempts} attempts")
            return self._end(report, worker_id, ReportState.FAILURE, gave_up)
        delay = min(STORAGE_RETRY_MAX, STORAGE_RETRY_FIRST * 2 ** (report.attempts - 1))
        log.warning(
            "storage unavailable; the report will be retried",
            extra={"action": "storage_retry", "retry_in": delay, "error": exc.message},
        )
        self._queue.park(report.id, worker_id, delay)
        return ReportState.CREATED

    def _generate(self, report: Report, workdir: Path, control: RunControl) -> RunResult:
        template = self._catalog.of_report(report)
        missing = tuple(f for f in report.formats if not report.artifacts_for(f))
        spec = RunSpec.of(report, template, missing)
        if report.artifacts and report.data_key:  # formats added later: from the kept rows
            data = workdir / "kept.parquet"
            self._fetch(report, report.data_key, data)
            return self._generator.regenerate(spec, data, workdir, control)
        source = self._catalog.source(template.source)
        return self._generator.generate(spec, source, workdir, control)

    def _fetch(self, report: Report, key: str, dest: Path) -> None:
        with dest.open("wb") as out:
            for chunk in self._catalog.storage_of(report).open_range(key):
                out.write(chunk)

    def _store_files(
        self, report: Report, worker_id: str, result: RunResult, control: RunControl
    ) -> ReportState:
        storage = self._catalog.storage_of(report)
        _drop_stale_attempts(report, storage)
        prefix = f"{report.tenant_id}/{report.id}/{report.attempts}"
        artifacts = []
        for out in result.files:
            key = f"{prefix}/{out.filename}"
            storage.put_file(key, out.path)
            artifacts.append(_artifact(report.id, key, out))
        data_key = None
        if result.kept_data is not None:
            data_key = f"{prefix}/data/rows.parquet"
            storage.put_file(data_key, result.kept_data)
        regenerated = bool(report.artifacts)
        expires_at = (
            report.expires_at
            if regenerated and report.expires_at
            else self._retention.expiry_of(report)
        )
        if self._queue.finish(
            report.id, worker_id, artifacts, control.progress, expires_at, data_key=data_key
        ):
            return ReportState.FINISHED
        # The lease was lost (another worker has it now): nothing of ours may stay.
        storage.delete_prefix(prefix + "/")
        return ReportState.IN_PROGRESS

    def _end(
        self, report: Report, worker_id: str, state: ReportState, exc: ReportdError
    ) -> ReportState:
        error = ReportError(code=exc.code, message=exc.message)
        self._queue.end(report.id, worker_id, state, error, self._retention.expiry_of(report))
        return state


def _drop_stale_attempts(report: Report, storage: FileStorage) -> None:
    """Delete files earlier attempts stored but never recorded (a worker killed between
    upload and finish, a database lost mid-finish), so no orphan stays and no report ever
    holds files of two attempts. Recorded files (formats added later) are kept."""
    if report.attempts <= 1:
        return
    kept = {a.storage_key for a in report.artifacts} | {report.data_key or ""}
    for key in storage.list_keys(f"{report.tenant_id}/{report.id}/"):
        if key not in kept:
            storage.delete(key)


def _artifact(report_id: str, key: str, out: OutputFile) -> Artifact:
    return Artifact(
        report_id=report_id,
        format=out.format,
        packaging=out.packaging,
        filename=out.filename,
        mime_type=out.mime_type,
        size=out.size,
        sha256=out.sha256,
        storage_key=key,
        part=out.part,
        rows=out.rows,
        zip_password=out.zip_password,
    )
