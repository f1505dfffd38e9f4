"""The report library (DigiCert's): a feature switch, definitions and their runs as one history."""

from __future__ import annotations

import pytest

from reportd.app.library import Cadence, HistoryQuery, cadence
from reportd.domain.errors import FeatureNotEnabled, ReportNotFound
from reportd.domain.formats import Format
from reportd.domain.models import Schedule
from tests.unit.app.conftest import World


def definition(name: str = "monthly orders", cron: str | None = None) -> Schedule:
    return Schedule(
        id="", tenant_id="", template_id="orders", name=name, formats=(Format.CSV,), cron=cron
    )


def test_cadence_reads_the_cron_expression() -> None:
    assert cadence(None) is Cadence.ONCE
    assert cadence("0 3 1 * *") is Cadence.MONTHLY
    assert cadence("0 3 * * 1") is Cadence.WEEKLY
    assert cadence("*/5 * * * *") is Cadence.OTHER


def test_nothing_answers_without_the_custom_reports_feature(world: World) -> None:
    world.app.tenants.create_tenant("plain")
    key = world.app.tenants.create_key("plain", "bob", ["admin"])
    caller = world.app.tenants.authenticate(key.secret)
    with pytest.raises(FeatureNotEnabled):
        world.app.library.create(caller, definition(), run_now=False)
    with pytest.raises(FeatureNotEnabled):
        world.app.library.history(caller, HistoryQuery())


def test_an_on_demand_definition_runs_through_the_reports_use_case(world: World) -> None:
    caller = world.principal()
    woken: list[str] = []
    world.app.events.work_queued.connect(lambda: woken.append("wake"))
    saved = world.app.library.create(caller, definition(), run_now=True)
    assert woken == ["wake"]
    page = world.app.library.history(caller, HistoryQuery())
    assert page.total == 1
    (entry,) = page.entries
    assert entry.schedule is not None and entry.schedule.id == saved.id
    assert entry.run is not None and entry.run.schedule_id == saved.id
    assert page.template_names == {"orders": "Orders", "samples": "Samples"}


def test_a_run_is_opened_under_its_own_definition_only(world: World) -> None:
    caller = world.principal()
    saved = world.app.library.create(caller, definition(), run_now=False)
    other = world.app.library.create(caller, definition("other"), run_now=False)
    run = world.app.library.run(caller, saved.id)
    world.run_next()
    found = world.app.library.open_run(caller, saved.id, run.id, "csv")
    assert found.artifact.filename.startswith("monthly orders-")
    with pytest.raises(ReportNotFound):
        world.app.library.open_run(caller, other.id, run.id, "csv")


def test_calendared_definitions_come_first_in_the_history(world: World) -> None:
    caller = world.principal()
    world.app.library.create(caller, definition("waiting", cron="0 3 1 * *"), run_now=False)
    ran = world.app.library.create(caller, definition("ran"), run_now=True)
    page = world.app.library.history(caller, HistoryQuery())
    assert [e.run is None for e in page.entries] == [True, False]
    monthly = world.app.library.history(caller, HistoryQuery(cadences=(Cadence.MONTHLY,)))
    assert [e.schedule.name for e in monthly.entries if e.schedule] == ["waiting"]
    assert ran.id not in {e.schedule.id for e in monthly.entries if e.schedule}
