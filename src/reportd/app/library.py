"""The report library: saved report definitions (schedules) and their runs, as one use case.

Why a collaborator of its own: DigiCert's Report Library (and any client like it) names a run by
*two* identifiers, the saved report and the run, lists schedules and runs as one history, and is
an account-level feature (``custom_reports``). Those rules live here, once, so the dialect only
translates. A run is an ordinary report carrying ``schedule_id``: the native API sees the same
report, the same files and the same sha256.
"""

from __future__ import annotations

import builtins
import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Final

from reportd.app.access import require, require_feature
from reportd.app.catalog import Catalog
from reportd.app.downloads import Download, Downloads
from reportd.app.schedules import Schedules
from reportd.app.search import ReportSearch, ReportSearchQuery
from reportd.domain.errors import ReportNotFound
from reportd.domain.filters import And, Comparison, Expr, InList, Literal, Op, Present
from reportd.domain.filters import format_filter as filter_text
from reportd.domain.models import Feature, Principal, Report, Schedule, Scope, Template
from reportd.domain.naming import artifact_filename
from reportd.domain.paging import MAX_PAGE
from reportd.domain.states import ReportState

if TYPE_CHECKING:
    from reportd.app.ports import ReportRepository, ScheduleRepository

__all__ = ["Cadence", "HistoryEntry", "HistoryPage", "HistoryQuery", "ReportLibrary", "cadence"]

_PAGE: Final = MAX_PAGE  # schedules are read a page at a time when the history needs them all


class Cadence(StrEnum):
    """How often a definition runs, read from its cron expression."""

    ONCE = "once"  # no calendar: runs only when asked
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    OTHER = "other"


def cadence(cron: str | None) -> Cadence:
    """``m h dom mon dow``: a day of the month (or an nth/last weekday) is monthly."""
    if cron is None:
        return Cadence.ONCE
    fields = cron.split()
    if len(fields) != 5:
        return Cadence.OTHER
    dom, dow = fields[2], fields[4]
    if dom != "*" or "#" in dow or "L" in dow:
        return Cadence.MONTHLY
    return Cadence.WEEKLY if dow != "*" else Cadence.OTHER


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """A definition waiting for its calendar (``run`` None) or one run of it.

    ``schedule`` is None for a run whose definition has been deleted since.
    """

    schedule: Schedule | None
    run: Report | None


@dataclass(frozen=True, slots=True)
class HistoryQuery:
    """Every part optional; all given parts must hold. Calendared definitions come first."""

    names: tuple[str, ...] = ()
    name_contains: str | None = None
    template_ids: tuple[str, ...] = ()
    cadences: tuple[Cadence, ...] = ()
    states: tuple[ReportState, ...] = ()  # of runs; empty: every state
    with_scheduled: bool = True  # list calendared definitions themselves
    with_runs: bool = True  # list runs
    offset: int = 0
    limit: int = 100


@dataclass(frozen=True, slots=True)
class HistoryPage:
    entries: list[HistoryEntry]
    total: int
    template_names: dict[str, str] = dataclasses.field(default_factory=dict)  # id -> name


class ReportLibrary:
    """Over the schedules, search and downloads use cases and the reports and schedules ports."""

    def __init__(
        self,
        *,
        schedules: Schedules,
        search: ReportSearch,
        downloads: Downloads,
        reports: ReportRepository,
        definitions: ScheduleRepository,
        catalog: Catalog,
    ) -> None:
        self._catalog = catalog
        self._definitions_port = definitions
        self._schedules = schedules
        self._search = search
        self._downloads = downloads
        self._reports = reports

    def _allow(self, principal: Principal, scope: Scope) -> None:
        # The account-level switch first: without it nothing of the library answers.
        require_feature(principal, Feature.CUSTOM_REPORTS)
        require(principal, scope)

    def create(self, principal: Principal, definition: Schedule, *, run_now: bool) -> Schedule:
        """Save a definition; ``run_now`` also starts its first run (an on-demand report)."""
        self._allow(principal, Scope.SCHEDULES_WRITE)
        saved = self._schedules.create(principal, definition)
        if run_now:
            self._schedules.run_now(principal, saved.id)
        return saved

    def replace(
        self, principal: Principal, schedule_id: str, definition: Schedule, *, run_now: bool
    ) -> Schedule:
        """Overwrite a definition; changes apply to later runs only."""
        self._allow(principal, Scope.SCHEDULES_WRITE)
        saved = self._schedules.replace(principal, schedule_id, definition)
        if run_now:
            self._schedules.run_now(principal, saved.id)
        return saved

    def details(self, principal: Principal, schedule_id: str) -> Schedule:
        """One saved definition (``ScheduleNotFound`` if unknown or another tenant's)."""
        self._allow(principal, Scope.REPORTS_READ)
        return self._definitions_port.get(schedule_id, principal.tenant_id)

    def delete(self, principal: Principal, schedule_id: str) -> None:
        """Remove a definition: no more runs; its past runs and their files stay listed."""
        self._allow(principal, Scope.SCHEDULES_WRITE)
        self._schedules.delete(principal, schedule_id)

    def report_types(self, principal: Principal) -> builtins.list[Template]:
        """What a definition can be made of: every template the tenant can use, the operator's
        and (DigiCert's custom reports) the tenant's own."""
        self._allow(principal, Scope.REPORTS_READ)
        return self._catalog.templates_for(principal.tenant_id)

    def report_type(self, principal: Principal, template_id: str) -> Template:
        self._allow(principal, Scope.REPORTS_READ)
        return self._catalog.template(template_id, principal.tenant_id)

    def run(self, principal: Principal, schedule_id: str) -> Report:
        self._allow(principal, Scope.SCHEDULES_WRITE)
        return self._schedules.run_now(principal, schedule_id)

    def open_run(
        self,
        principal: Principal,
        schedule_id: str,
        run_id: str,
        fmt: str,
        part: int | None = None,
        *,
        on: datetime | None = None,
    ) -> Download:
        """A file of one run, named for the day it is downloaded (``<name>-<YYYY-MM-DD>.<ext>``).

        An unknown definition is ``ScheduleNotFound``; a run that is unknown, another tenant's
        or another definition's is ``ReportNotFound``.
        """
        self._allow(principal, Scope.REPORTS_READ)
        self._definitions_port.get(schedule_id, principal.tenant_id)
        run = self._reports.get(run_id, principal.tenant_id)
        if run.schedule_id != schedule_id:
            raise ReportNotFound(f"report {run_id!r} is not a run of {schedule_id!r}")
        download = self._downloads.open_download(principal, run_id, fmt, part)
        artifact = download.artifact
        extension = artifact.packaging.wrap_extension(artifact.format.extension)
        day = (on or datetime.now(UTC)).date()
        named = artifact.evolve(filename=artifact_filename(run.name, day, extension))
        return dataclasses.replace(download, artifact=named)

    def history(self, principal: Principal, query: HistoryQuery) -> HistoryPage:
        """Calendared definitions (newest first), then runs (newest first), paged as one list."""
        self._allow(principal, Scope.REPORTS_READ)
        definitions = self._definitions(principal.tenant_id)
        waiting = [s for s in definitions if query.with_scheduled and _waiting(s, query)]
        shown = waiting[query.offset : query.offset + query.limit]
        runs, total_runs = self._runs(principal, query, definitions, len(waiting), len(shown))
        by_id = {s.id: s for s in definitions}
        entries = [HistoryEntry(schedule=s, run=None) for s in shown]
        entries += [HistoryEntry(schedule=by_id.get(r.schedule_id or ""), run=r) for r in runs]
        names = {t.id: t.name for t in self._catalog.templates_for(principal.tenant_id)}
        return HistoryPage(entries=entries, total=len(waiting) + total_runs, template_names=names)

    def _definitions(self, tenant_id: str) -> builtins.list[Schedule]:
        store = self._definitions_port
        found, total = store.list(tenant_id, limit=_PAGE, offset=0)
        while len(found) < total:
            more, _ = store.list(tenant_id, limit=_PAGE, offset=len(found))
            if not more:
                break
            found += more
        return found

    def _runs(
        self,
        principal: Principal,
        query: HistoryQuery,
        definitions: Sequence[Schedule],
        waiting: int,
        shown: int,
    ) -> tuple[builtins.list[Report], int]:
        where = _runs_filter(query, definitions) if query.with_runs else None
        if where is None:
            return [], 0
        room = query.limit - shown
        search = ReportSearchQuery(
            filter=filter_text(where),
            offset=max(0, query.offset - waiting),
            limit=max(room, 1),
            count_only=room <= 0,
        )
        page = self._search.search(principal, search)
        return page.results, page.total_count


def _waiting(schedule: Schedule, query: HistoryQuery) -> bool:
    """A definition with a live calendar, matching the query's definition-level parts."""
    if schedule.cron is None or not schedule.enabled:
        return False
    if query.names and schedule.name not in query.names:
        return False
    if query.name_contains and query.name_contains.lower() not in schedule.name.lower():
        return False
    if query.template_ids and schedule.template_id not in query.template_ids:
        return False
    return not query.cadences or cadence(schedule.cron) in query.cadences


def _runs_filter(query: HistoryQuery, definitions: Sequence[Schedule]) -> Expr | None:
    """The runs the query asks for, as a filter over report attributes; None: no run can match."""
    parts: list[Expr] = [Present("schedule_id")]
    if query.cadences:
        ids = [s.id for s in definitions if cadence(s.cron) in query.cadences]
        if not ids:
            return None
        parts.append(_one_of("schedule_id", ids))
    if query.names:
        parts.append(_one_of("name", query.names))
    if query.name_contains:
        parts.append(Comparison("name", Op.CO, Literal(query.name_contains)))
    if query.template_ids:
        parts.append(_one_of("template_id", query.template_ids))
    if query.states:
        parts.append(_one_of("state", [s.value for s in query.states]))
    return And(tuple(parts))


def _one_of(key: str, values: Sequence[str]) -> Expr:
    return InList(key, tuple(Literal(v) for v in values))
