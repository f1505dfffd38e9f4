"""ReportSearchRepository and SubjectRepository: reports found by what they are.

Conditions reach the store as checked filter ASTs (``reportd.app.search.search_conditions``);
the SQL stores compile them, the in-memory one evaluates them: the answers must agree.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from reportd.app import ports
from reportd.app.search import Condition, ReportSearchQuery, search_conditions
from reportd.domain.listing import ReportPage, ReportSelection
from reportd.domain.models import Report
from tests.contract.records import BASE, LATER, artifact_for, finished, new_report


@pytest.fixture
def world(store: ports.Store) -> dict[str, Report]:
    """Five reports of t1, a minute apart (a oldest), and one of t2."""
    # Finished first: ``finished`` claims the oldest queued report, which must be this one.
    last = finished(store, new_report(name="alpha beta", created_at=BASE + timedelta(minutes=4)))
    made = {
        "a": store.reports.insert(new_report(name="alpha", created_by="ann", created_at=BASE)),
        "b": store.reports.insert(new_report(name="Beta", created_at=BASE + timedelta(minutes=1))),
        "c": store.reports.insert(
            new_report(name="gamma", created_by="bob", created_at=BASE + timedelta(minutes=2))
        ),
        "d": store.reports.insert(
            new_report(
                name="delta", template_id="sales", created_by="ann", schedule_id="s1"
            ).evolve(created_at=BASE + timedelta(minutes=3))
        ),
        "other": store.reports.insert(new_report(tenant="t2", name="alpha", created_at=BASE)),
    }
    return {**made, "e": last}


def ids(store: ports.Store, world: dict[str, Report], **query: Any) -> list[str]:
    found = select(store, **query).results
    names = {r.id: k for k, r in world.items()}
    return [names[r.id] for r in found]


def select(store: ports.Store, **query: Any) -> ReportPage:
    page_keys = {"order", "offset", "limit", "cursor", "count_only"}
    page = {k: v for k, v in query.items() if k in page_keys}
    asked = ReportSearchQuery(**{k: v for k, v in query.items() if k not in page_keys})
    selection = ReportSelection(tenant_id="t1", where=search_conditions(asked), **page)
    return store.search.search(selection)


def test_no_condition_is_every_report_of_the_tenant_newest_first(
    store: ports.Store, world: dict[str, Report]
) -> None:
    assert ids(store, world) == ["e", "d", "c", "b", "a"]
    assert select(store).total_count == 5


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('state eq "FINISHED"', ["e"]),
        ('name co "alpha"', ["e", "a"]),
        ('name co "beta"', ["e"]),  # co is case-sensitive: not "Beta"
        ('name sw "B"', ["b"]),
        ('name ew "ta"', ["e", "d", "b"]),
        ('created_by ne "ann"', ["c"]),  # NULL is neither eq nor ne
        ('not (created_by eq "ann")', ["c"]),  # nor its negation
        ("not (created_by pr)", ["e", "b"]),
        ("created_by eq null", ["e", "b"]),
        ('created_by in ("bob", "ann")', ["d", "c", "a"]),
        ('template_id eq "sales" or name eq "gamma"', ["d", "c"]),
        ('created_at gt "2024-01-01T00:02:00Z"', ["e", "d"]),
        ('created_at le "2024-01-01T00:01:00"', ["b", "a"]),  # naive: UTC
        ('report_id eq "missing"', []),
        ("finished_at pr and expires_at pr", ["e"]),
        ('SCHEDULE_ID eq "s1"', ["d"]),  # names match case-insensitively
    ],
)
def test_a_filter_keeps_what_sql_would(
    store: ports.Store, world: dict[str, Report], text: str, expected: list[str]
) -> None:
    assert ids(store, world, filter=text) == expected


def test_conditions_any_of_keyword_and_filter_all_hold(
    store: ports.Store, world: dict[str, Report]
) -> None:
    query = {
        "conditions": (Condition("created_by", "ann"),),
        "any_of": (Condition("name", "alpha"), Condition("template_id", "sales")),
    }
    assert ids(store, world, **query) == ["d", "a"]
    assert ids(store, world, **query, filter='name ne "delta"') == ["a"]
    assert ids(store, world, keyword="amm") == ["c"]  # in the name
    assert ids(store, world, keyword="sale") == ["d"]  # in the template
    not_in = Condition("created_by", ["ann"], "not_in")  # SpaceONE's: absent matches too
    assert ids(store, world, conditions=(not_in,)) == ["e", "c", "b"]


def test_sorting_puts_nulls_last_either_way_then_newest_first(
    store: ports.Store, world: dict[str, Report]
) -> None:
    assert ids(store, world, order=(("created_by", False),)) == ["d", "a", "c", "e", "b"]
    assert ids(store, world, order=(("created_by", True),)) == ["c", "d", "a", "e", "b"]
    by_two = (("template_id", True), ("name", False))
    assert ids(store, world, order=by_two) == ["d", "b", "a", "e", "c"]


def test_offset_limit_and_count_only(store: ports.Store, world: dict[str, Report]) -> None:
    page = select(store, order=(("name", False),), offset=1, limit=2)
    assert [world_key(world, r) for r in page.results] == ["a", "e"]
    assert page.total_count == 5 and page.next_cursor is None
    counted = select(store, filter='name co "alpha"', count_only=True)
    assert counted.total_count == 2 and counted.results == []


def test_the_default_order_pages_by_cursor(store: ports.Store, world: dict[str, Report]) -> None:
    first = select(store, limit=2)
    assert [world_key(world, r) for r in first.results] == ["e", "d"]
    second = select(store, limit=2, cursor=first.next_cursor)
    third = select(store, limit=2, cursor=second.next_cursor)
    assert [world_key(world, r) for r in second.results] == ["c", "b"]
    assert [world_key(world, r) for r in third.results] == ["a"]
    assert third.next_cursor is None
    assert third.total_count == 5


def test_found_reports_carry_their_artifacts(store: ports.Store) -> None:
    report = new_report()
    finished(store, report, artifact_for(report))
    found = select(store, filter='state eq "FINISHED"').results
    assert [a.filename for a in found[0].artifacts] == ["orders.csv"]


def world_key(world: dict[str, Report], report: Report) -> str:
    return next(k for k, r in world.items() if r.id == report.id)


def test_the_newest_report_about_a_subject(store: ports.Store) -> None:
    md5 = "0" * 32
    store.reports.insert(new_report(subject=md5, created_at=BASE))
    newest = store.reports.insert(new_report(subject=md5, created_at=BASE + timedelta(hours=1)))
    store.reports.request_cancel(newest.id, "t1", LATER)  # in any state
    store.reports.insert(new_report(subject=md5, template_id="other", created_at=LATER))
    store.reports.insert(new_report(tenant="t2", subject=md5, created_at=LATER))
    store.reports.insert(new_report(subject="1" * 32, created_at=LATER))
    assert store.subjects.newest("t1", "orders", md5) == newest.id
    assert store.subjects.newest("t1", "orders", "2" * 32) is None
    assert store.subjects.newest("t3", "orders", md5) is None
