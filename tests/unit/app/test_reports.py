"""The reports use case over the fake store: scopes, tenancy, dedup, cancel, formats, events."""

from __future__ import annotations

import dataclasses

import pytest

from reportd.domain.errors import (
    Conflict,
    Forbidden,
    FormatInapplicable,
    InvalidStateTransition,
    ReportNotFound,
    ReportNotReady,
    ValidationError,
)
from reportd.domain.states import ReportState
from tests.unit.app.conftest import ORDERS, World


def test_create_queues_a_report_of_the_caller(world: World) -> None:
    caller = world.principal(name="alice")
    report = world.create(caller, formats=("csv", "json"))
    assert report.state is ReportState.CREATED
    assert report.tenant_id == "acme"
    assert report.created_by == "alice"
    assert report.options == {"since": "2000-01-01"}  # the schema's default filled in
    assert world.store.reports.get(report.id).formats == report.formats


def test_create_needs_the_write_scope(world: World) -> None:
    reader = world.principal(scopes=("reports:read",))
    with pytest.raises(Forbidden, match="reports:write"):
        world.create(reader)


def test_another_tenants_report_is_not_found(world: World) -> None:
    mine = world.create(world.principal("acme"))
    other = world.principal("globex")
    with pytest.raises(ReportNotFound):
        world.app.reports.get(other, mine.id)
    with pytest.raises(ReportNotFound):
        world.app.reports.cancel(other, mine.id)
    with pytest.raises(ReportNotFound):
        world.app.reports.delete(other, mine.id)
    assert world.app.reports.list(other).total_count == 0


def test_work_queued_is_raised_once_per_new_report(world: World) -> None:
    woken: list[str] = []
    world.app.events.work_queued.connect(lambda: woken.append("wake"))
    caller = world.principal()
    world.create(caller)
    assert woken == ["wake"]


def test_dedup_hands_back_the_live_twin_without_queueing(world: World) -> None:
    world.app.catalog.templates["orders"] = dataclasses.replace(ORDERS, dedup_window=600)
    caller = world.principal()
    first = world.create(caller)
    woken: list[str] = []
    world.app.events.work_queued.connect(lambda: woken.append("wake"))
    again = world.create(caller)
    assert again.id == first.id and again.deduplicated
    assert woken == []
    different = world.create(caller, formats=("json",))
    assert different.id != first.id


def test_no_format_is_refused_unless_the_door_asks_for_the_default(world: World) -> None:
    caller = world.principal()
    with pytest.raises(ValidationError, match="at least one format"):
        world.create(caller, formats=())
    from reportd.domain.models import ReportRequest

    made = world.app.reports.create(
        caller, ReportRequest(template_id="orders", formats=()), default_format=True
    )
    assert [f.value for f in made.formats] == ["csv"]


def test_cancel_of_a_queued_report_ends_it_and_tells_the_workers(world: World) -> None:
    canceled: list[str] = []
    world.app.events.report_canceled.connect(canceled.append)
    caller = world.principal()
    report = world.create(caller)
    after = world.app.reports.cancel(caller, report.id)
    assert after.state is ReportState.CANCELED
    assert canceled == [report.id]
    assert world.app.runs.claim("w1") is None  # nothing left to run


def test_cancel_of_a_finished_report_is_refused(world: World) -> None:
    caller = world.principal()
    world.create(caller)
    done = world.run_next()
    assert done.state is ReportState.FINISHED
    with pytest.raises(InvalidStateTransition):
        world.app.reports.cancel(caller, done.id)


def test_delete_removes_the_files(world: World) -> None:
    caller = world.principal()
    world.create(caller)
    done = world.run_next()
    assert world.storage.list_keys(f"acme/{done.id}/")
    world.app.reports.delete(caller, done.id)
    assert world.storage.list_keys(f"acme/{done.id}/") == []
    with pytest.raises(ReportNotFound):
        world.app.reports.get(caller, done.id)


def test_add_format_needs_a_finished_report_that_kept_its_rows(world: World) -> None:
    caller = world.principal()
    report = world.create(caller)
    with pytest.raises(ReportNotReady):
        world.app.reports.add_format(caller, report.id, "json")
    done = world.run_next()
    with pytest.raises(Conflict, match="keep_data"):
        world.app.reports.add_format(caller, done.id, "json")
    with pytest.raises(FormatInapplicable):
        world.app.reports.add_format(caller, done.id, "zip")


def test_add_format_requeues_and_keeps_the_first_files(world: World) -> None:
    world.app.catalog.templates["orders"] = dataclasses.replace(ORDERS, keep_data=True)
    caller = world.principal()
    world.create(caller)
    done = world.run_next()
    woken: list[str] = []
    world.app.events.work_queued.connect(lambda: woken.append("wake"))
    queued = world.app.reports.add_format(caller, done.id, "json")
    assert queued.state is ReportState.CREATED and woken == ["wake"]
    again = world.run_next()
    assert again.state is ReportState.FINISHED
    assert sorted(a.format.value for a in again.artifacts) == ["csv", "json"]
    assert world.generator.runs[-1].formats == (queued.formats[-1],)  # only the new one


def test_list_filters_and_pages_once_for_every_door(world: World) -> None:
    caller = world.principal()
    for _ in range(3):
        world.create(caller)
    world.create(caller, formats=("json",), name="special")
    page = world.app.reports.list(caller, filter='name eq "special"')
    assert [r.name for r in page.results] == ["special"]
    assert world.app.reports.list(caller, state="CREATED", limit=2).total_count == 4
    with pytest.raises(ValidationError, match="1000"):
        world.app.reports.list(caller, limit=1001)
    with pytest.raises(ValidationError, match="state"):
        world.app.reports.list(caller, state="DONE")
