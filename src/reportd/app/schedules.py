"""Schedules: saved report definitions, run on demand or on a cron calendar in a time zone.

Every process that runs workers also fires schedules; the store makes each firing happen
once however many do (``reportd.adapters.db.schedules``). After downtime a schedule fires once for
the most recent missed time, not once per missed time.
"""

from __future__ import annotations

import builtins
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

from reportd.app.access import require
from reportd.app.catalog import Catalog
from reportd.app.events import Events
from reportd.app.reports import Reports
from reportd.domain import relative_dates
from reportd.domain.errors import ReportdError, Unavailable, ValidationError
from reportd.domain.formats import Format
from reportd.domain.listing import ReportPage
from reportd.domain.models import Principal, Report, ReportRequest, Schedule, Scope
from reportd.domain.paging import check_page
from reportd.domain.relative_dates import is_relative

if TYPE_CHECKING:
    from reportd.app.ports import ScheduleRepository

log = logging.getLogger("reportd.scheduler")


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(f"unknown time zone {name!r}") from None


def check_cron(expression: str) -> None:
    if not croniter.is_valid(expression):
        raise ValidationError(f"{expression!r} is not a valid cron expression")


def next_fire(expression: str, timezone: str, after: datetime) -> datetime:
    """The first firing strictly after ``after``, in UTC (DST handled in the schedule's zone)."""
    local = after.astimezone(zone(timezone))
    fired: datetime = croniter(expression, local).get_next(datetime)
    return fired.astimezone(UTC)


def latest_fire(expression: str, timezone: str, now: datetime) -> datetime:
    """The most recent firing at or before ``now``: the one catch-up run after downtime."""
    local = (now + timedelta(microseconds=1)).astimezone(zone(timezone))
    fired: datetime = croniter(expression, local).get_prev(datetime)
    return fired.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class ScheduleChanges:
    """A partial update; None means "leave as is"."""

    name: str | None = None
    enabled: bool | None = None
    cron: str | None = None
    timezone: str | None = None
    options: dict[str, Any] | None = None
    formats: Sequence[str] | None = None
    destinations: Sequence[str] | None = None
    clear_cron: bool = False


class Schedules:
    """The schedules use case: the schedules port, and the reports use case to make runs."""

    def __init__(
        self,
        *,
        schedules: ScheduleRepository,
        reports: Reports,
        catalog: Catalog,
        events: Events,
    ) -> None:
        self.store = schedules
        self._reports = reports
        self._catalog = catalog
        self._events = events

    def create(self, principal: Principal, schedule: Schedule) -> Schedule:
        require(principal, Scope.SCHEDULES_WRITE)
        checked = self._checked(
            schedule.evolve(
                id=str(uuid.uuid4()),
                tenant_id=principal.tenant_id,
                created_by=principal.name,
                created_by_id=principal.key_id,
            )
        )
        return self.store.insert(self._timed(checked, datetime.now(UTC)))

    def _checked(self, schedule: Schedule) -> Schedule:
        """Validate like a report request now, so a bad schedule fails at creation, not at 3 am."""
        if schedule.cron is not None:
            check_cron(schedule.cron)
        zone(schedule.timezone)
        report = self._reports.validate(schedule.tenant_id, self._request(schedule))
        # Kept as written where it is a relative date, so each firing takes its own day.
        options = {
            name: schedule.options[name] if is_relative(schedule.options.get(name)) else value
            for name, value in report.options.items()
        }
        return schedule.evolve(options=options, formats=report.formats)

    def _request(self, schedule: Schedule, at: datetime | None = None) -> ReportRequest:
        """The schedule's request, its relative dates taken on the day of ``at`` in its zone."""
        request = schedule.request()
        today = (at or datetime.now(UTC)).astimezone(zone(schedule.timezone)).date()
        template = self._catalog.template(schedule.template_id, schedule.tenant_id)
        options = relative_dates.evaluate(template.parameters, request.options, today)
        return replace(request, options=options)

    @staticmethod
    def _timed(schedule: Schedule, now: datetime) -> Schedule:
        if schedule.cron is None or not schedule.enabled:
            return schedule.evolve(next_fire_at=None)
        return schedule.evolve(next_fire_at=next_fire(schedule.cron, schedule.timezone, now))

    def get(self, principal: Principal, schedule_id: str) -> Schedule:
        require(principal, Scope.SCHEDULES_READ)
        return self.store.get(schedule_id, principal.tenant_id)

    def list(
        self, principal: Principal, *, limit: int = 50, offset: int = 0
    ) -> tuple[list[Schedule], int]:
        require(principal, Scope.SCHEDULES_READ)
        check_page(limit, offset)
        return self.store.list(principal.tenant_id, limit=limit, offset=offset)

    def update(self, principal: Principal, schedule_id: str, changes: ScheduleChanges) -> Schedule:
        require(principal, Scope.SCHEDULES_WRITE)
        current = self.store.get(schedule_id, principal.tenant_id)
        updated = current.evolve(
            name=changes.name if changes.name is not None else current.name,
            enabled=changes.enabled if changes.enabled is not None else current.enabled,
            cron=None if changes.clear_cron else (changes.cron or current.cron),
            timezone=changes.timezone or current.timezone,
            options=changes.options if changes.options is not None else current.options,
            formats=tuple(Format.parse(f) for f in changes.formats)
            if changes.formats is not None
            else current.formats,
            destinations=tuple(changes.destinations)
            if changes.destinations is not None
            else current.destinations,
        )
        checked = self._checked(updated)
        # Re-enabling or re-timing starts from now: no storm of missed runs.
        return self.store.update(self._timed(checked, datetime.now(UTC)))

    def replace(self, principal: Principal, schedule_id: str, definition: Schedule) -> Schedule:
        """The whole definition overwritten (a PUT), keeping identity, owner and history."""
        require(principal, Scope.SCHEDULES_WRITE)
        current = self.store.get(schedule_id, principal.tenant_id)
        replaced = definition.evolve(
            id=current.id,
            tenant_id=current.tenant_id,
            created_by=current.created_by,
            created_by_id=current.created_by_id,
            created_at=current.created_at,
            last_fired_at=current.last_fired_at,
        )
        return self.store.update(self._timed(self._checked(replaced), datetime.now(UTC)))

    def delete(self, principal: Principal, schedule_id: str) -> None:
        require(principal, Scope.SCHEDULES_WRITE)
        self.store.delete(schedule_id, principal.tenant_id)

    def run_now(self, principal: Principal, schedule_id: str) -> Report:
        """One report from the schedule's definition, now, whatever its calendar says."""
        require(principal, Scope.SCHEDULES_WRITE)
        schedule = self.store.get(schedule_id, principal.tenant_id)
        report = self.report_for(schedule)
        made = report.evolve(created_by=principal.name, created_by_id=principal.key_id)
        return self._reports.enqueue(made)

    def report_for(self, schedule: Schedule, fired_at: datetime | None = None) -> Report:
        """A run of the schedule. Its destinations were checked when it was saved: one deleted
        since fails that run's delivery (``the destination was deleted``), not the run."""
        request = replace(self._request(schedule, fired_at), destinations=())
        report = self._reports.validate(schedule.tenant_id, request)
        return report.evolve(
            created_by=schedule.created_by,
            created_by_id=schedule.created_by_id,
            scheduled_for=fired_at,
            destinations=schedule.destinations,
        )

    def runs(
        self, principal: Principal, schedule_id: str, *, limit: int = 50, cursor: str | None = None
    ) -> ReportPage:
        """The reports the schedule made, newest first."""
        self.get(principal, schedule_id)
        return self._reports.list(principal, schedule_id=schedule_id, limit=limit, cursor=cursor)

    def fire_due(self, now: datetime | None = None) -> builtins.list[str]:
        """Fire every due schedule once; returns the ids of the reports made."""
        now = now or datetime.now(UTC)
        made: builtins.list[str] = []
        for schedule in self.store.due(now):  # one at a time: a bad one never stops the rest
            try:
                report_id = self._fire(schedule, now)
            except Unavailable:
                raise  # the database is away: every schedule would fail the same way
            except Exception:
                self._set_aside(schedule, now)
                continue
            if report_id is not None:
                made.append(report_id)
        if made:
            self._events.work_queued.emit()
        return made

    def _set_aside(self, schedule: Schedule, now: datetime) -> None:
        """A schedule whose firing raised: this due time is skipped (its calendar moves on),
        or, when not even its calendar can be computed, it is disabled; logged either way.
        Left due, it came first in every pass and stopped the schedules behind it."""
        extra = {"action": "schedule_error", "schedule_id": schedule.id}
        try:
            assert schedule.cron is not None
            following = next_fire(schedule.cron, schedule.timezone, now)
        except Exception:
            log.exception("schedule cannot fire; disabled", extra=extra)
            self.store.update(schedule.evolve(enabled=False, updated_at=now))
            return
        log.exception("schedule did not fire; skipped until %s", following, extra=extra)
        self.store.fire(schedule, None, now, following)

    def _fire(self, schedule: Schedule, now: datetime) -> str | None:
        assert schedule.cron is not None
        fired_at = latest_fire(schedule.cron, schedule.timezone, now)
        following = next_fire(schedule.cron, schedule.timezone, now)
        extra = {"action": "schedule_fire", "schedule_id": schedule.id}
        try:
            report: Report | None = self.report_for(schedule, fired_at)
        except ReportdError as exc:  # the template changed under it: skip, keep the calendar
            log.warning("schedule cannot run: %s", exc.message, extra=extra)
            report = None
        if not self.store.fire(schedule, report, fired_at, following):
            return None
        if report is None:
            return None
        log.info("schedule fired", extra={**extra, "report_id": report.id})
        return report.id
