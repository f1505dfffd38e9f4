"""The reports use case: create (the insert is the enqueue), read, list, cancel, delete, and
add a format to a finished report.

Every report enters the queue through ``Reports.enqueue``, whoever asked for it (a router, a
schedule run, the report library, a subject): that is where ``work_queued`` is raised, so no
door has to wake the workers itself. Another tenant's report is ``ReportNotFound``.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from reportd.app.access import require
from reportd.app.catalog import Catalog
from reportd.app.events import Events
from reportd.app.requests import RequestChecker
from reportd.app.retention import Retention
from reportd.app.search import ReportSearch, ReportSearchQuery, equalities
from reportd.domain.errors import Conflict, FormatInapplicable, ReportNotReady, ValidationError
from reportd.domain.listing import ReportPage
from reportd.domain.models import Principal, Report, ReportRequest, Scope
from reportd.domain.paging import check_page
from reportd.domain.states import ReportState

if TYPE_CHECKING:
    from reportd.app.ports import ReportRepository

__all__ = ["Reports"]


class Reports:
    def __init__(
        self,
        *,
        reports: ReportRepository,
        catalog: Catalog,
        checker: RequestChecker,
        retention: Retention,
        search: ReportSearch,
        events: Events,
    ) -> None:
        self._reports = reports
        self._catalog = catalog
        self._checker = checker
        self._retention = retention
        self._search = search
        self._events = events

    def create(
        self, principal: Principal, request: ReportRequest, *, default_format: bool = False
    ) -> Report:
        """Queue a report, or hand back a live identical one within the template's dedup window.

        ``default_format``: a request naming no format gets the template's first format this
        build writes (SpaceONE's create has no format at all; getbill's may omit it). Without
        it, no format is a ``ValidationError``, as the native API documents.
        """
        require(principal, Scope.REPORTS_WRITE)
        if default_format and not request.formats:
            formats = self.default_formats(request.template_id, principal.tenant_id)
            request = dataclasses.replace(request, formats=formats)
        report = self.validate(principal.tenant_id, request)
        window = self._catalog.of_report(report).dedup_window
        if window and report.dedup_key:
            since = datetime.now(UTC) - timedelta(seconds=window)
            twin = self._reports.find_duplicate(report.tenant_id, report.dedup_key, since)
            if twin is not None:
                return twin.evolve(deduplicated=True)
        return self.enqueue(
            report.evolve(created_by=principal.name, created_by_id=principal.key_id)
        )

    def default_formats(self, template_id: str, tenant_id: str | None = None) -> tuple[str, ...]:
        return self._checker.default_formats(self._catalog.template(template_id, tenant_id))

    def validate(self, tenant_id: str, request: ReportRequest) -> Report:
        """A CREATED report for ``request``, or the first reason it cannot be made."""
        return self._checker.check(tenant_id, request)

    def enqueue(self, report: Report) -> Report:
        """Insert a validated report (the insert is the enqueue) and wake this process' workers."""
        inserted = self._reports.insert(report)
        self._events.work_queued.emit()
        return inserted

    def get(self, principal: Principal, report_id: str) -> Report:
        require(principal, Scope.REPORTS_READ)
        return self._reports.get(report_id, principal.tenant_id)

    def list(
        self,
        principal: Principal,
        *,
        state: str | None = None,
        template_id: str | None = None,
        schedule_id: str | None = None,
        created_by: str | None = None,
        filter: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> ReportPage:
        """The tenant's reports, newest first, narrowed by attributes and a filter text."""
        require(principal, Scope.REPORTS_READ)
        if state is not None and state not in ReportState.__members__:
            raise ValidationError(f"state must be one of {list(ReportState.__members__)}")
        check_page(limit)
        conditions = equalities(
            state=state, template_id=template_id, schedule_id=schedule_id, created_by=created_by
        )
        query = ReportSearchQuery(conditions=conditions, filter=filter, limit=limit, cursor=cursor)
        return self._search.search(principal, query)

    def cancel(self, principal: Principal, report_id: str) -> Report:
        """Cancel a queued or running report; a late cancel of an ended one changes nothing."""
        require(principal, Scope.REPORTS_WRITE)
        report = self._reports.get(report_id, principal.tenant_id)
        expires_at = self._retention.expiry_of(report)
        canceled = self._reports.request_cancel(report_id, principal.tenant_id, expires_at)
        self._events.report_canceled.emit(canceled.id)  # at once if this process runs it
        return canceled

    def delete(self, principal: Principal, report_id: str) -> None:
        require(principal, Scope.REPORTS_WRITE)
        report, keys = self._reports.delete(report_id, principal.tenant_id)
        storage = self._catalog.storages.get(report.storage_id)
        if storage is not None:
            for key in keys:
                storage.delete(key)

    def add_format(self, principal: Principal, report_id: str, fmt_name: str) -> Report:
        """Another format of a finished report, made from its kept rows, not from the source."""
        require(principal, Scope.REPORTS_WRITE)
        report = self._reports.get(report_id, principal.tenant_id)
        template = self._catalog.of_report(report)
        (fmt,) = self._checker.formats(template, [fmt_name])
        if fmt.is_bundle:
            raise FormatInapplicable("zip can only be asked for when the report is created")
        if fmt in report.formats:
            return report
        if report.state is not ReportState.FINISHED:
            raise ReportNotReady(f"the report is {report.state}, not FINISHED")
        if not report.data_key:
            raise Conflict(
                f"report {report.id} kept no data to make new formats from "
                f"(template {template.id!r} does not set keep_data)"
            )
        queued = self._reports.add_formats(report.id, (*report.formats, fmt))
        self._events.work_queued.emit()
        return queued
