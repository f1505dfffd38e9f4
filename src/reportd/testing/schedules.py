"""Schedules in memory, firing each due time once (the same optimistic rule as the SQL store)."""

from __future__ import annotations

import builtins
import copy
from datetime import datetime

from reportd.domain.errors import ScheduleNotFound
from reportd.domain.models import Report, Schedule
from reportd.testing._state import MemoryState, in_utc


class MemorySchedules:
    """The ``ScheduleRepository`` port in memory."""

    def __init__(self, state: MemoryState) -> None:
        self._state = state

    def insert(self, schedule: Schedule) -> Schedule:
        with self._state.lock:
            now = self._state.now()
            stored = schedule.evolve(created_at=now, updated_at=now)
            self._state.schedules[stored.id] = _copy(stored)
            return stored

    def get(self, schedule_id: str, tenant_id: str) -> Schedule:
        with self._state.lock:
            return _copy(self._get(schedule_id, tenant_id))

    def list(
        self, tenant_id: str, *, limit: int, offset: int
    ) -> tuple[builtins.list[Schedule], int]:
        with self._state.lock:
            mine = [s for s in self._state.schedules.values() if s.tenant_id == tenant_id]
        mine.sort(key=lambda s: s.id)  # ties: id ascending, then newest first (stable)
        mine.sort(key=lambda s: s.created_at or datetime.min, reverse=True)
        return [_copy(s) for s in mine[offset : offset + limit]], len(mine)

    def update(self, schedule: Schedule) -> Schedule:
        with self._state.lock:
            current = self._get(schedule.id, schedule.tenant_id)
            stored = schedule.evolve(updated_at=self._state.now())
            self._state.schedules[schedule.id] = _copy(stored.evolve(created_at=current.created_at))
            return stored

    def delete(self, schedule_id: str, tenant_id: str) -> None:
        with self._state.lock:
            self._get(schedule_id, tenant_id)
            del self._state.schedules[schedule_id]

    def due(self, now: datetime, limit: int = 100) -> builtins.list[Schedule]:
        with self._state.lock:
            found = [
                s
                for s in self._state.schedules.values()
                if s.enabled and s.next_fire_at is not None and s.next_fire_at <= now
            ]
        found.sort(key=lambda s: s.next_fire_at or now)
        return [_copy(s) for s in found[:limit]]

    def fire(
        self, schedule: Schedule, report: Report | None, fired_at: datetime, next_fire: datetime
    ) -> bool:
        with self._state.lock:
            current = self._state.schedules.get(schedule.id)
            # As SQL's `next_fire_at = :read`: a NULL never matches.
            if current is None or current.next_fire_at is None:
                return False
            if current.next_fire_at != schedule.next_fire_at:
                return False
            self._state.schedules[schedule.id] = current.evolve(
                next_fire_at=next_fire, last_fired_at=fired_at, updated_at=self._state.now()
            )
            if report is None:
                return True
            if self._fired_already(report):
                return False  # the advance stands; this firing's report exists already
            self._state.add_report(report)
            return True

    def _fired_already(self, report: Report) -> bool:
        """The unique (schedule_id, scheduled_for) of the SQL store; NULLs never collide."""
        if report.id in self._state.reports:
            return True
        if report.schedule_id is None or report.scheduled_for is None:
            return False
        return any(
            (row.report.schedule_id, row.report.scheduled_for)
            == (report.schedule_id, report.scheduled_for)
            for row in self._state.reports.values()
        )

    def _get(self, schedule_id: str, tenant_id: str) -> Schedule:
        found = self._state.schedules.get(schedule_id)
        if found is None or found.tenant_id != tenant_id:
            raise ScheduleNotFound(f"schedule {schedule_id!r} not found")
        return found


def _copy(schedule: Schedule) -> Schedule:
    return in_utc(schedule).evolve(options=copy.deepcopy(dict(schedule.options)))
