"""The runs use case (what a worker does): a run's end, a late cancel, failures, leases."""

from __future__ import annotations

import pytest

from reportd.app.generator import RunControl, RunSpec
from reportd.domain.errors import (
    DatabaseUnavailable,
    ReportCanceled,
    SourceError,
    StorageUnavailable,
)
from reportd.domain.states import ReportState
from tests.unit.app.conftest import World


def test_a_run_stores_its_files_then_finishes(world: World) -> None:
    caller = world.principal()
    report = world.create(caller, formats=("csv", "json"))
    done = world.run_next()
    assert done.state is ReportState.FINISHED
    assert done.progress.rows == 3
    keys = sorted(a.storage_key for a in done.artifacts)
    assert keys == [f"acme/{report.id}/1/orders.csv", f"acme/{report.id}/1/orders.json"]
    assert world.storage.list_keys(f"acme/{report.id}/") == keys
    assert done.expires_at is not None  # retention starts at the end


def test_a_late_cancel_wins_over_the_finish(world: World) -> None:
    caller = world.principal()
    report = world.create(caller)

    def cancel_meanwhile(spec: RunSpec, control: RunControl) -> None:
        world.app.reports.cancel(caller, report.id)  # while IN_PROGRESS: flagged

    world.generator.during = cancel_meanwhile
    ended = world.run_next()
    assert ended.state is ReportState.CANCELED
    assert ended.artifacts == ()
    assert world.storage.list_keys(f"acme/{report.id}/") == []  # nothing of the run stays


def test_a_stopped_run_ends_canceled_or_timed_out(world: World) -> None:
    caller = world.principal()
    world.create(caller)
    world.create(caller, formats=("json",))
    world.generator.during = lambda spec, control: control.stop(ReportCanceled)
    assert world.run_next().state is ReportState.CANCELED
    world.generator.during = None
    claimed = world.app.runs.claim("w1")
    assert claimed is not None
    control = RunControl(deadline=0.0)  # already past: the first check times it out
    assert world.app.runs.run_report(claimed, "w1", control) is ReportState.TIMEOUT
    assert world.store.reports.get(claimed.id).error is not None


def test_a_failing_source_ends_the_report_with_its_error(world: World) -> None:
    world.principal()
    world.create(world.principal())

    def fail(spec: RunSpec, control: RunControl) -> None:
        raise SourceError("the source said no")

    world.generator.during = fail
    ended = world.run_next()
    assert ended.state is ReportState.FAILURE
    assert ended.error is not None and ended.error.code == "source_error"


def test_a_bug_is_an_internal_error_not_a_stuck_report(world: World) -> None:
    world.create(world.principal())

    def crash(spec: RunSpec, control: RunControl) -> None:
        raise KeyError("bug")

    world.generator.during = crash
    ended = world.run_next()
    assert ended.state is ReportState.FAILURE
    assert ended.error is not None and "KeyError" in ended.error.message


def test_storage_away_parks_the_report_for_a_later_attempt(world: World) -> None:
    world.create(world.principal())

    def storage_away(spec: RunSpec, control: RunControl) -> None:
        raise StorageUnavailable("the storage is away")

    world.generator.during = storage_away
    claimed = world.app.runs.claim("w1")
    assert claimed is not None
    assert world.app.runs.run_report(claimed, "w1", RunControl()) is ReportState.CREATED
    assert world.store.reports.get(claimed.id).error is None  # not an end: a retry later
    assert world.app.runs.claim("w2") is None  # parked for the backoff, not at once


def test_storage_away_on_the_last_attempt_is_a_failure(world: World) -> None:
    world.create(world.principal())
    claimed = world.app.runs.claim("w1")
    assert claimed is not None
    last = claimed.evolve(attempts=2)  # max_attempts is 2 in this world

    def storage_away(spec: RunSpec, control: RunControl) -> None:
        raise StorageUnavailable("the storage is away")

    world.generator.during = storage_away
    assert world.app.runs.run_report(last, "w1", RunControl()) is ReportState.FAILURE
    error = world.store.reports.get(claimed.id).error
    assert error is not None and "gave up after 2 attempts" in error.message


def test_a_database_outage_is_not_recorded(world: World) -> None:
    world.create(world.principal())

    def database_away(spec: RunSpec, control: RunControl) -> None:
        raise DatabaseUnavailable()

    world.generator.during = database_away
    claimed = world.app.runs.claim("w1")
    assert claimed is not None
    with pytest.raises(DatabaseUnavailable):
        world.app.runs.run_report(claimed, "w1", RunControl())
    assert world.store.reports.get(claimed.id).state is ReportState.IN_PROGRESS


def test_a_hand_back_returns_the_report_to_the_queue(world: World) -> None:
    world.create(world.principal())

    def shutting_down(spec: RunSpec, control: RunControl) -> None:
        control.hand_back = True
        control.stop(ReportCanceled)

    world.generator.during = shutting_down
    assert world.run_next().state is ReportState.CREATED
    world.generator.during = None
    assert world.run_next().state is ReportState.FINISHED


def test_heartbeat_reports_a_cancel_to_the_worker(world: World) -> None:
    caller = world.principal()
    report = world.create(caller)
    claimed = world.app.runs.claim("w1")
    assert claimed is not None and claimed.id == report.id
    assert world.app.runs.claim("w2") is None  # leased: nobody else gets it
    assert not world.app.runs.heartbeat(report.id, "w1", RunControl()).cancel_requested
    world.app.reports.cancel(caller, report.id)
    beat = world.app.runs.heartbeat(report.id, "w1", RunControl())
    assert beat.alive and beat.cancel_requested


def test_deadline_is_the_templates_timeout_from_the_start(world: World) -> None:
    world.create(world.principal())
    claimed = world.app.runs.claim("w1")
    assert claimed is not None and claimed.started_at is not None
    assert world.app.runs.deadline(claimed) == claimed.started_at.timestamp() + 600


def test_a_template_gone_by_a_reload_fails_its_report_with_a_clear_code(world: World) -> None:
    """A reload (SIGHUP) that drops a template a queued report names: the run ends FAILURE
    with ``template_not_found``; before, the worker slot died on the deadline look-up."""
    world.create(world.principal())
    claimed = world.app.runs.claim("w1")
    assert claimed is not None
    world.app.catalog.templates = {
        t_id: t for t_id, t in world.app.catalog.templates.items() if t_id != "orders"
    }
    control = RunControl(deadline=world.app.runs.deadline(claimed))
    assert control.deadline is None
    assert world.app.runs.run_report(claimed, "w1", control) is ReportState.FAILURE
    error = world.store.reports.get(claimed.id).error
    assert error is not None and error.code == "template_not_found"
