"""Relative dates in options: a schedule keeps ``start_of_month`` and each firing takes the
date of its own day in the schedule's time zone; a report asked for now takes today's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from reportd.bootstrap import App, build_app
from reportd.config import load_settings
from reportd.domain.errors import ValidationError
from reportd.domain.formats import Format
from reportd.domain.models import Principal, ReportRequest, Schedule
from reportd.entrypoints.startup import prepare
from tests.server_fixtures import DEFAULT_CONFIG, write_sample_world


@pytest.fixture
def world(tmp_path: Path) -> tuple[App, Principal]:
    write_sample_world(tmp_path)
    (tmp_path / "reportd.toml").write_text(DEFAULT_CONFIG)
    settings = load_settings(tmp_path / "reportd.toml", data_dir=tmp_path / "data")
    service = build_app(settings)
    prepare(settings, service)
    service.tenants.create_tenant("acme")
    created = service.tenants.create_key("acme", "ops", ["admin"])
    yield service, service.tenants.authenticate(created.secret)
    service.close()


def test_a_schedule_keeps_the_expression_and_each_firing_takes_its_day(
    world: tuple[App, Principal],
) -> None:
    service, principal = world
    definition = Schedule(id="", tenant_id="", template_id="orders", name="monthly",
                          formats=(Format.CSV,), options={"since": "start_of_month"},
                          cron="0 1 1 * *", timezone="Asia/Seoul")  # fmt: skip
    schedule = service.schedules.create(principal, definition)
    assert schedule.options["since"] == "start_of_month"  # stored as written
    # 2024-05-31 16:30 UTC is already 1 June in Seoul: the firing's month is June.
    fired = datetime(2024, 5, 31, 16, 30, tzinfo=UTC)
    report = service.schedules.report_for(schedule, fired)
    assert report.options["since"] == "2024-06-01"
    earlier = service.schedules.report_for(schedule, fired - timedelta(hours=2))
    assert earlier.options["since"] == "2024-05-01"  # 23:30 on 31 May in Seoul


def test_a_report_now_takes_todays_date(world: tuple[App, Principal]) -> None:
    service, principal = world
    before = datetime.now(UTC).date()
    report = service.reports.create(
        principal,
        ReportRequest(template_id="orders", formats=("csv",), options={"since": "today-7d"}),
    )
    after = datetime.now(UTC).date()
    assert report.options["since"] in {(d - timedelta(days=7)).isoformat() for d in (before, after)}
    with pytest.raises(ValidationError):
        service.reports.create(
            principal,
            ReportRequest(
                template_id="orders", formats=("csv",), options={"since": "last tuesday"}
            ),
        )
