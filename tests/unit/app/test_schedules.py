"""Schedules: validated at creation, run on demand, fired once per due time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from reportd.app.schedules import ScheduleChanges, Schedules
from reportd.domain.errors import Forbidden, ScheduleNotFound, TemplateNotFound, ValidationError
from reportd.domain.formats import Format
from reportd.domain.models import Schedule
from reportd.domain.states import ReportState
from tests.unit.app.conftest import World


def definition(**changes: object) -> Schedule:
    base = Schedule(
        id="", tenant_id="", template_id="orders", name="nightly", formats=(Format.CSV,)
    )
    return base.evolve(**changes)


def test_a_bad_definition_fails_at_creation_not_at_3_am(world: World) -> None:
    caller = world.principal()
    with pytest.raises(ValidationError, match="cron"):
        world.app.schedules.create(caller, definition(cron="every night"))
    with pytest.raises(ValidationError, match="time zone"):
        world.app.schedules.create(caller, definition(cron="0 3 * * *", timezone="Mars/Base"))
    with pytest.raises(TemplateNotFound):
        world.app.schedules.create(caller, definition(template_id="nope"))
    with pytest.raises(Forbidden):
        world.app.schedules.create(world.principal(scopes=("reports:write",)), definition())


def test_run_now_queues_a_report_carrying_the_schedule(world: World) -> None:
    caller = world.principal()
    saved = world.app.schedules.create(caller, definition())
    woken: list[str] = []
    world.app.events.work_queued.connect(lambda: woken.append("wake"))
    report = world.app.schedules.run_now(caller, saved.id)
    assert report.schedule_id == saved.id and report.state is ReportState.CREATED
    assert woken == ["wake"]
    runs = world.app.schedules.runs(caller, saved.id)
    assert [r.id for r in runs.results] == [report.id]


def test_another_tenants_schedule_is_not_found(world: World) -> None:
    saved = world.app.schedules.create(world.principal("acme"), definition())
    other = world.principal("globex")
    with pytest.raises(ScheduleNotFound):
        world.app.schedules.get(other, saved.id)
    with pytest.raises(ScheduleNotFound):
        world.app.schedules.run_now(other, saved.id)


def test_a_due_schedule_fires_once_however_many_processes_try(world: World) -> None:
    caller = world.principal()
    saved = world.app.schedules.create(caller, definition(cron="*/5 * * * *"))
    assert saved.next_fire_at is not None
    later = saved.next_fire_at + timedelta(seconds=1)
    # A second process: another use case over the same store.
    other = Schedules(
        schedules=world.store.schedules,
        reports=world.app.reports,
        catalog=world.app.catalog,
        events=world.app.events,
    )
    made = world.app.schedules.fire_due(later) + other.fire_due(later)
    assert len(made) == 1
    assert world.app.schedules.fire_due(later) == []
    report = world.store.reports.get(made[0])
    assert report.schedule_id == saved.id and report.scheduled_for is not None


def test_after_downtime_a_schedule_fires_once_not_once_per_missed_time(world: World) -> None:
    caller = world.principal()
    saved = world.app.schedules.create(caller, definition(cron="*/5 * * * *"))
    assert saved.next_fire_at is not None
    made = world.app.schedules.fire_due(saved.next_fire_at + timedelta(hours=3))
    assert len(made) == 1


def test_disabling_stops_the_calendar(world: World) -> None:
    caller = world.principal()
    saved = world.app.schedules.create(caller, definition(cron="*/5 * * * *"))
    updated = world.app.schedules.update(caller, saved.id, ScheduleChanges(enabled=False))
    assert updated.next_fire_at is None
    assert world.app.schedules.fire_due(datetime.now(UTC) + timedelta(days=1)) == []


def test_a_schedule_that_raises_never_stops_the_others(world: World) -> None:
    """Issue 11, build item 3: a due schedule whose firing raised stopped every pass at it
    (it stayed due, and first). Now a broken calendar (stored by an older version) is
    disabled, a firing that raises skips that due time, and the others fire."""
    caller = world.principal()
    good = world.app.schedules.create(caller, definition(cron="*/5 * * * *"))
    assert good.next_fire_at is not None
    due = good.next_fire_at
    broken = world.store.schedules.insert(
        definition(id="broken", tenant_id="acme", cron="not a cron", next_fire_at=due)
    )
    zoneless = world.store.schedules.insert(
        definition(id="zoneless", tenant_id="acme", cron="0 3 * * *", timezone="Mars/Base").evolve(
            next_fire_at=due
        )
    )
    # A row no store of reportd would give back (formats as bare strings): building its
    # report raises AttributeError, not a ReportdError. The fake store holds it as given.
    raising = world.store.schedules.insert(
        definition(id="raising", tenant_id="acme", cron="*/5 * * * *", next_fire_at=due).evolve(
            formats=("csv",)
        )
    )
    made = world.app.schedules.fire_due(due + timedelta(seconds=1))
    assert [world.store.reports.get(r).schedule_id for r in made] == [good.id]
    assert world.store.schedules.get(broken.id, "acme").enabled is False
    assert world.store.schedules.get(zoneless.id, "acme").enabled is False
    moved = world.store.schedules.get(raising.id, "acme")
    assert moved.enabled is True and moved.next_fire_at is not None and moved.next_fire_at > due
    assert world.app.schedules.fire_due(due + timedelta(seconds=2)) == []
