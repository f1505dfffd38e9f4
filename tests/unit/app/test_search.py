"""Report search: one set of rules for every door, within the caller's tenant."""

from __future__ import annotations

import pytest

from reportd.app.search import Condition, ReportSearchQuery, equalities, parse_timediff
from reportd.domain.errors import ValidationError
from tests.unit.app.conftest import World


def test_conditions_any_of_and_keyword(world: World) -> None:
    caller = world.principal()
    for name in ("alpha", "beta", "gamma"):
        world.create(caller, name=name)
    world.create(world.principal("globex"), name="alpha")
    search = world.app.search.search
    page = search(caller, ReportSearchQuery(conditions=equalities(name="alpha")))
    assert [r.name for r in page.results] == ["alpha"]  # not the other tenant's
    either = (Condition("name", "beta"), Condition("name", "gamma"))
    page = search(caller, ReportSearchQuery(any_of=either))
    assert sorted(r.name for r in page.results) == ["beta", "gamma"]
    page = search(caller, ReportSearchQuery(keyword="amm"))
    assert [r.name for r in page.results] == ["gamma"]
    counted = search(caller, ReportSearchQuery(count_only=True))
    assert counted.results == [] and counted.total_count == 3


def test_sorting_and_paging(world: World) -> None:
    caller = world.principal()
    for name in ("b", "c", "a"):
        world.create(caller, name=name)
    query = ReportSearchQuery(sort=(("name", False),), offset=1, limit=1)
    assert [r.name for r in world.app.search.search(caller, query).results] == ["b"]


@pytest.mark.parametrize(
    "query",
    [
        ReportSearchQuery(limit=0),
        ReportSearchQuery(limit=1001),
        ReportSearchQuery(offset=-1),
        ReportSearchQuery(cursor="abc", sort=(("name", False),)),
        ReportSearchQuery(conditions=(Condition("name", "x", "regex"),)),
        ReportSearchQuery(conditions=(Condition("nope", "x"),)),
        ReportSearchQuery(conditions=(Condition("name", [], "in"),)),
    ],
)
def test_bad_queries_are_validation_errors(world: World, query: ReportSearchQuery) -> None:
    with pytest.raises(ValidationError):
        world.app.search.search(world.principal(), query)


def test_timediff_values() -> None:
    from datetime import UTC, datetime

    now = datetime(2026, 3, 4, 15, 30, tzinfo=UTC)  # a Wednesday
    assert parse_timediff("now-1d", now) == datetime(2026, 3, 3, 15, 30, tzinfo=UTC)
    assert parse_timediff("now/d", now) == datetime(2026, 3, 4, tzinfo=UTC)
    assert parse_timediff("now/w+2h", now) == datetime(2026, 3, 2, 2, tzinfo=UTC)
    with pytest.raises(ValidationError):
        parse_timediff("yesterday", now)
