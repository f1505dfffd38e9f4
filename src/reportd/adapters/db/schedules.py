"""Schedules (saved report definitions) and their firing.

Firing is an optimistic update: the schedule's ``next_fire_at`` moves forward only if it
still holds the value the firer read, and the report is inserted in the same transaction,
so any number of processes firing at once make exactly one report per firing. The unique
index on ``reports(schedule_id, scheduled_for)`` guards the same rule a second time.
"""

from __future__ import annotations

import builtins
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from reportd.adapters.db.database import notify_queue, read_transaction, write_transaction
from reportd.adapters.db.rows import insert_report
from reportd.adapters.db.schema import schedules
from reportd.domain.bounds import renderable
from reportd.domain.errors import ScheduleNotFound
from reportd.domain.formats import Format, Packaging
from reportd.domain.models import Report, Schedule


class ScheduleStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def insert(self, schedule: Schedule) -> Schedule:
        now = datetime.now(UTC)
        stored = schedule.evolve(created_at=now, updated_at=now)
        with write_transaction(self.engine) as conn:
            conn.execute(insert(schedules).values(**_row(stored)))
        return stored

    def get(self, schedule_id: str, tenant_id: str) -> Schedule:
        query = select(schedules).where(
            schedules.c.id == schedule_id, schedules.c.tenant_id == tenant_id
        )
        with read_transaction(self.engine) as conn:
            row = conn.execute(query).mappings().first()
        if row is None:
            raise ScheduleNotFound(f"schedule {schedule_id!r} not found")
        return _schedule(row)

    def list(
        self, tenant_id: str, *, limit: int, offset: int
    ) -> tuple[builtins.list[Schedule], int]:
        where = schedules.c.tenant_id == tenant_id
        page = (
            select(schedules)
            .where(where)
            .order_by(schedules.c.created_at.desc(), schedules.c.id)
            .limit(limit)
            .offset(offset)
        )
        with read_transaction(self.engine) as conn:
            total = conn.execute(select(func.count()).where(where)).scalar_one()
            rows = conn.execute(page).mappings().all()
        return [_schedule(r) for r in rows], int(total)

    def update(self, schedule: Schedule) -> Schedule:
        stored = schedule.evolve(updated_at=datetime.now(UTC))
        values = _row(stored)
        values.pop("created_at")
        with write_transaction(self.engine) as conn:
            result = conn.execute(
                update(schedules)
                .where(schedules.c.id == schedule.id, schedules.c.tenant_id == schedule.tenant_id)
                .values(**values)
            )
        if result.rowcount == 0:
            raise ScheduleNotFound(f"schedule {schedule.id!r} not found")
        return stored

    def delete(self, schedule_id: str, tenant_id: str) -> None:
        with write_transaction(self.engine) as conn:
            result = conn.execute(
                delete(schedules).where(
                    schedules.c.id == schedule_id, schedules.c.tenant_id == tenant_id
                )
            )
        if result.rowcount == 0:
            raise ScheduleNotFound(f"schedule {schedule_id!r} not found")

    def due(self, now: datetime, limit: int = 100) -> builtins.list[Schedule]:
        query = (
            select(schedules)
            .where(schedules.c.enabled.is_(True), schedules.c.next_fire_at <= now)
            .order_by(schedules.c.next_fire_at)
            .limit(limit)
        )
        with read_transaction(self.engine) as conn:
            return [_schedule(r) for r in conn.execute(query).mappings()]

    def fire(
        self, schedule: Schedule, report: Report | None, fired_at: datetime, next_fire: datetime
    ) -> bool:
        """Advance the schedule and insert its report, unless another process just did."""
        now = datetime.now(UTC)
        with write_transaction(self.engine) as conn:
            moved = conn.execute(
                update(schedules)
                .where(
                    schedules.c.id == schedule.id,
                    schedules.c.next_fire_at == schedule.next_fire_at,
                )
                .values(next_fire_at=next_fire, last_fired_at=fired_at, updated_at=now)
            )
            if moved.rowcount != 1:
                return False
            if report is not None:
                try:
                    with conn.begin_nested():
                        insert_report(conn, report.evolve(created_at=report.created_at or now), now)
                        notify_queue(conn)
                except IntegrityError:
                    return False  # this firing's report exists already (unique index)
        return True


def _row(schedule: Schedule) -> dict[str, Any]:
    return {
        "id": schedule.id,
        "tenant_id": schedule.tenant_id,
        "template_id": schedule.template_id,
        "name": schedule.name,
        "options": dict(schedule.options),
        "fields": list(schedule.fields) if schedule.fields is not None else None,
        "filter": schedule.filter,
        "order_by": list(schedule.order_by),
        "formats": [f.value for f in schedule.formats],
        "packaging": schedule.packaging.value,
        "zip_password": schedule.zip_password,
        "storage_id": schedule.storage_id,
        "cron": schedule.cron,
        "timezone": schedule.timezone,
        "enabled": schedule.enabled,
        "created_by": schedule.created_by,
        "created_by_id": schedule.created_by_id,
        "created_at": schedule.created_at,
        "updated_at": schedule.updated_at,
        "next_fire_at": schedule.next_fire_at,
        "last_fired_at": schedule.last_fired_at,
        "destinations": list(schedule.destinations) or None,
    }


def _schedule(row: Any) -> Schedule:
    return Schedule(
        id=row["id"],
        tenant_id=row["tenant_id"],
        template_id=row["template_id"],
        name=row["name"],
        formats=tuple(Format(f) for f in row["formats"]),
        options=renderable(row["options"]),  # as stored, even before the bounds
        fields=tuple(row["fields"]) if row["fields"] is not None else None,
        filter=row["filter"],
        order_by=tuple(row["order_by"]),
        packaging=Packaging(row["packaging"]),
        zip_password=row["zip_password"],
        storage_id=row["storage_id"],
        cron=row["cron"],
        timezone=row["timezone"],
        enabled=bool(row["enabled"]),
        created_by=row["created_by"],
        created_by_id=row["created_by_id"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        next_fire_at=row["next_fire_at"],
        last_fired_at=row["last_fired_at"],
        destinations=tuple(row["destinations"] or ()),
    )
