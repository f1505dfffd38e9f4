"""A finished report's rows as entries (PingOne's ENTRIES), a page at a time, or waited for."""

from __future__ import annotations

import pytest

from reportd.app.entries import decode_cursor, encode_cursor
from reportd.domain.errors import ReportNotFound, ReportNotReady, ValidationError
from reportd.domain.states import ReportState
from tests.unit.app.conftest import World


def test_entries_are_the_json_files_rows_paged(world: World) -> None:
    world.generator.rows = 5
    caller = world.principal()
    report = world.create(caller, formats=("json",))
    with pytest.raises(ReportNotReady):
        world.app.entries.page(caller, report.id, 0, 2)
    world.run_next()
    first = world.app.entries.page(caller, report.id, 0, 2)
    assert [e["order_id"] for e in first.entries] == [0, 1]
    assert (first.total, first.next_offset) == (5, 2)
    last = world.app.entries.page(caller, report.id, 4, 2)
    assert [e["order_id"] for e in last.entries] == [4] and last.next_offset is None
    with pytest.raises(ReportNotFound):
        world.app.entries.page(world.principal("globex"), report.id, 0, 2)


def test_wait_returns_at_once_for_a_final_report_and_after_the_timeout_otherwise(
    world: World,
) -> None:
    caller = world.principal()
    report = world.create(caller, formats=("json",))
    assert world.app.entries.wait(caller, report.id, 0.0).state is ReportState.CREATED
    world.run_next()
    assert world.app.entries.wait(caller, report.id, 30.0).state is ReportState.FINISHED


def test_cursors_round_trip_and_bad_ones_are_refused() -> None:
    assert decode_cursor(encode_cursor(42)) == 42
    assert decode_cursor(None) == 0
    for bad in ("!!", encode_cursor(1).upper()):
        with pytest.raises(ValidationError):
            decode_cursor(bad)
