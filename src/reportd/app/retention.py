"""How long a report's files are kept, and the sweep that deletes them when that runs out.

A finished (or failed, canceled, timed-out) report keeps its files for its template's
``retention``, or less when the request asked (``expires_in``, an absolute ``expires_at``).
The sweep deletes the files first, then marks the report EXPIRED, so no link ever points
at a file that is half gone; it is safe to run in many processes at once.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from reportd.app.catalog import Catalog
from reportd.domain.errors import ReportdError, StorageUnavailable
from reportd.domain.models import Report, Template

if TYPE_CHECKING:
    from reportd.app.ports import ReportRepository

__all__ = ["FAILED_RETENTION", "Retention", "expiry_of"]

log = logging.getLogger("reportd.app.retention")

FAILED_RETENTION = 86_400  # reports that ended without files (a dead worker, a gone template)


def expiry_of(report: Report, template: Template, now: datetime | None = None) -> datetime:
    """When an ending report's files go: its template's retention, or less if asked."""
    retention = template.retention
    if report.expires_in is not None:
        retention = min(retention, report.expires_in)
    expiry = (now or datetime.now(UTC)) + timedelta(seconds=retention)
    if report.expires_at is not None:  # asked for at creation (e.g. PingOne's 30 minutes)
        expiry = min(expiry, report.expires_at)
    return expiry


class Retention:
    """The retention sweep, over the reports port and the catalog's storages."""

    def __init__(self, reports: ReportRepository, catalog: Catalog) -> None:
        self._reports = reports
        self._catalog = catalog

    def expiry_of(self, report: Report, now: datetime | None = None) -> datetime:
        """A report whose template a reload removed keeps the retention of one that lost
        its worker (it has no files either), so it can still be ended and listed; so does
        a tenant's whose template can no longer be used (its source grant revoked)."""
        try:
            template = self._catalog.of_report(report)
        except ReportdError:  # TemplateNotFound, SourceNotGranted, ...
            return (now or datetime.now(UTC)) + timedelta(seconds=FAILED_RETENTION)
        return expiry_of(report, template, now)

    def expire_due(self, now: datetime | None = None) -> list[str]:
        """Delete expired reports' files, then mark them EXPIRED; the ids marked.

        One report at a time: a storage that is away keeps its reports for the next sweep
        (it is away for all of them); any other error on one report is logged with the
        report and the report is marked EXPIRED anyway, so it is no longer served and the
        reports behind it in the batch go on (it used to stop every sweep at that report).
        """
        expired: list[str] = []
        for report in self._reports.expired(now or datetime.now(UTC)):
            extra = {"action": "expire", "report_id": report.id}
            try:
                self._delete_files(report)
            except StorageUnavailable as exc:
                log.warning("files not deleted, storage away: %s", exc.message, extra=extra)
                continue
            except Exception:
                log.exception(
                    "files not deleted; the report is expired anyway",
                    extra={**extra, "action": "expire_error", "storage_id": report.storage_id},
                )
            if self._reports.mark_expired(report):
                expired.append(report.id)
                log.info("report expired", extra=extra)
        return expired

    def _delete_files(self, report: Report) -> None:
        storage = self._catalog.storages.get(report.storage_id)
        if storage is not None:
            storage.delete_prefix(f"{report.tenant_id}/{report.id}/")
