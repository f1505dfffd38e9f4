"""ScheduleRepository: saved definitions per tenant, and each due time firing exactly once."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta

import pytest

from reportd.app import ports
from reportd.domain.errors import ScheduleNotFound
from reportd.domain.formats import Format, Packaging
from reportd.domain.listing import ReportQuery
from reportd.domain.models import Schedule
from tests.contract.records import BASE, ago, in_threads, new_report, now


def new_schedule(tenant: str = "t1", **changes: object) -> Schedule:
    schedule = Schedule(
        id=str(uuid.uuid4()),
        tenant_id=tenant,
        template_id="orders",
        name="Daily orders",
        formats=(Format.CSV,),
    )
    return schedule.evolve(**changes)


def test_a_schedule_reads_back_as_inserted(store: ports.Store) -> None:
    schedule = new_schedule(
        options={"since": "2024-01-01"},
        fields=("order_id",),
        filter="amount gt 1",
        order_by=("-amount",),
        formats=(Format.CSV, Format.PDF),
        packaging=Packaging.ZIP,
        zip_password="true",
        storage_id="default",
        cron="0 6 * * *",
        timezone="Europe/Paris",
        created_by="alice",
        created_by_id="key-1",
        next_fire_at=BASE,
    )
    stored = store.schedules.insert(schedule)
    assert stored.created_at is not None and stored.updated_at is not None
    assert store.schedules.get(schedule.id, "t1") == stored
    with pytest.raises(ScheduleNotFound):
        store.schedules.get(schedule.id, "t2")


def test_update_changes_everything_but_when_it_was_made(store: ports.Store) -> None:
    stored = store.schedules.insert(new_schedule())
    changed = store.schedules.update(stored.evolve(name="Weekly", enabled=False, created_at=BASE))
    assert changed.updated_at is not None and stored.updated_at is not None
    assert changed.updated_at >= stored.updated_at
    got = store.schedules.get(stored.id, "t1")
    assert got.name == "Weekly" and not got.enabled
    assert got.created_at == stored.created_at
    with pytest.raises(ScheduleNotFound):
        store.schedules.update(stored.evolve(tenant_id="t2"))
    with pytest.raises(ScheduleNotFound):
        store.schedules.update(new_schedule())


def test_delete_removes_only_the_tenants_own(store: ports.Store) -> None:
    stored = store.schedules.insert(new_schedule())
    with pytest.raises(ScheduleNotFound):
        store.schedules.delete(stored.id, "t2")
    store.schedules.delete(stored.id, "t1")
    with pytest.raises(ScheduleNotFound):
        store.schedules.get(stored.id, "t1")
    with pytest.raises(ScheduleNotFound):
        store.schedules.delete(stored.id, "t1")


def test_list_is_the_tenants_newest_first_with_the_total(store: ports.Store) -> None:
    made = [store.schedules.insert(new_schedule()) for _ in range(5)]
    store.schedules.insert(new_schedule(tenant="t2"))
    page, total = store.schedules.list("t1", limit=2, offset=0)
    rest, _ = store.schedules.list("t1", limit=10, offset=2)
    assert total == 5
    assert len(page) == 2 and len(rest) == 3
    listed = page + rest
    assert {s.id for s in listed} == {s.id for s in made}
    stamps = [s.created_at for s in listed]
    assert stamps == sorted(stamps, reverse=True)  # type: ignore[type-var]


def test_due_are_enabled_schedules_whose_time_came_soonest_first(store: ports.Store) -> None:
    later = store.schedules.insert(new_schedule(cron="* * * * *", next_fire_at=ago(10)))
    sooner = store.schedules.insert(new_schedule(cron="* * * * *", next_fire_at=ago(60)))
    store.schedules.insert(new_schedule(cron="* * * * *", next_fire_at=now() + timedelta(hours=1)))
    store.schedules.insert(new_schedule(cron="* * * * *", next_fire_at=ago(60), enabled=False))
    store.schedules.insert(new_schedule())  # no calendar
    assert [s.id for s in store.schedules.due(now())] == [sooner.id, later.id]
    assert [s.id for s in store.schedules.due(now(), limit=1)] == [sooner.id]


def test_a_firing_happens_once_whoever_read_the_schedule(store: ports.Store) -> None:
    stored = store.schedules.insert(new_schedule(cron="* * * * *", next_fire_at=ago(30)))
    read_by_one = store.schedules.due(now())[0]
    read_by_other = store.schedules.due(now())[0]
    fired_at = stored.next_fire_at
    assert fired_at is not None
    following = fired_at + timedelta(minutes=1)
    first = new_report(schedule_id=stored.id, scheduled_for=fired_at)
    second = new_report(schedule_id=stored.id, scheduled_for=fired_at)
    assert store.schedules.fire(read_by_one, first, fired_at, following)
    assert not store.schedules.fire(read_by_other, second, fired_at, following)
    runs = store.reports.search(ReportQuery(tenant_id="t1", schedule_id=stored.id))
    assert [r.id for r in runs.results] == [first.id]
    moved = store.schedules.get(stored.id, "t1")
    assert moved.next_fire_at == following and moved.last_fired_at == fired_at
    assert store.schedules.due(now()) == []


def test_many_processes_firing_at_once_make_one_report(store: ports.Store) -> None:
    stored = store.schedules.insert(new_schedule(cron="* * * * *", next_fire_at=ago(30)))
    fired_at = stored.next_fire_at
    assert fired_at is not None
    wins: list[bool] = []
    lock = threading.Lock()

    def fire(_: int) -> None:
        report = new_report(schedule_id=stored.id, scheduled_for=fired_at)
        won = store.schedules.fire(stored, report, fired_at, fired_at + timedelta(minutes=1))
        with lock:
            wins.append(won)

    in_threads(6, fire)
    assert wins.count(True) == 1
    runs = store.reports.search(ReportQuery(tenant_id="t1", schedule_id=stored.id))
    assert runs.total_count == 1


def test_a_firing_whose_report_exists_makes_no_second_one(store: ports.Store) -> None:
    fired_at = ago(30)
    stored = store.schedules.insert(new_schedule(cron="* * * * *", next_fire_at=fired_at))
    store.reports.insert(new_report(schedule_id=stored.id, scheduled_for=fired_at))
    twin = new_report(schedule_id=stored.id, scheduled_for=fired_at)
    following = fired_at + timedelta(minutes=1)
    assert not store.schedules.fire(stored, twin, fired_at, following)
    runs = store.reports.search(ReportQuery(tenant_id="t1", schedule_id=stored.id))
    assert runs.total_count == 1 and runs.results[0].id != twin.id
    assert store.schedules.get(stored.id, "t1").next_fire_at == following  # moved on anyway


def test_a_firing_without_a_report_only_moves_the_schedule_on(store: ports.Store) -> None:
    fired_at = ago(30)
    stored = store.schedules.insert(new_schedule(cron="* * * * *", next_fire_at=fired_at))
    following = fired_at + timedelta(minutes=1)
    assert store.schedules.fire(stored, None, fired_at, following)
    assert store.schedules.get(stored.id, "t1").next_fire_at == following
    assert store.reports.search(ReportQuery(tenant_id="t1")).total_count == 0
