"""ReportRepository: what the use cases rely on, on every store."""

from __future__ import annotations

from datetime import timedelta

import pytest

from reportd.app import ports
from reportd.domain.errors import InvalidStateTransition, ReportNotFound, ValidationError
from reportd.domain.formats import Format, Packaging, ZipEncryption
from reportd.domain.listing import ReportQuery
from reportd.domain.models import Progress, ReportError
from reportd.domain.states import ReportState
from tests.contract.records import BASE, LATER, ago, artifact_for, finished, new_report, now


def test_a_report_reads_back_as_inserted(store: ports.Store) -> None:
    report = new_report(
        options={"since": "2024-01-01", "nested": {"a": [1, 2]}},
        fields=("order_id", "amount"),
        filter="amount gt 3",
        order_by=("-amount",),
        formats=(Format.CSV, Format.JSON),
        packaging=Packaging.ZIP,
        zip_password="secret",
        zip_encryption=ZipEncryption.ZIPCRYPTO,
        storage_id="s3",
        progress=Progress(0, 10),
        created_by="alice",
        created_by_id="key-1",
        schedule_id="sched-1",
        callback_url="https://example.com/cb",
        expires_in=600,
        scheduled_for=BASE,
        dedup_key="d" * 64,
        subject="0" * 32,
        template_version=3,
    )
    stored = store.reports.insert(report)
    assert stored.created_at is not None and abs(stored.created_at - now()) < timedelta(minutes=5)
    assert store.reports.get(report.id, "t1") == stored
    assert store.reports.get(report.id) == stored  # the worker's read, across tenants


def test_created_at_is_kept_when_given(store: ports.Store) -> None:
    stored = store.reports.insert(new_report(created_at=BASE))
    assert stored.created_at == BASE
    assert store.reports.get(stored.id).created_at == BASE


def test_changing_a_returned_report_changes_nothing_stored(store: ports.Store) -> None:
    report = store.reports.insert(new_report(options={"k": ["v"]}))
    store.reports.get(report.id).options["k"].append("changed")
    assert store.reports.get(report.id).options == {"k": ["v"]}


def test_another_tenants_report_is_not_found(store: ports.Store) -> None:
    report = store.reports.insert(new_report())
    with pytest.raises(ReportNotFound):
        store.reports.get(report.id, "t2")
    with pytest.raises(ReportNotFound):
        store.reports.get("no-such-report")
    with pytest.raises(ReportNotFound):
        store.reports.request_cancel(report.id, "t2", LATER)
    with pytest.raises(ReportNotFound):
        store.reports.delete(report.id, "t2")


def test_listing_pages_newest_first_within_the_tenant(store: ports.Store) -> None:
    made = [
        store.reports.insert(new_report(created_at=BASE + timedelta(seconds=i))) for i in range(7)
    ]
    store.reports.insert(new_report(tenant="t2"))
    seen: list[str] = []
    cursor = None
    for _ in range(10):
        page = store.reports.search(ReportQuery(tenant_id="t1", limit=3, cursor=cursor))
        assert page.total_count == 7
        seen.extend(r.id for r in page.results)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == [r.id for r in reversed(made)]


def test_reports_made_in_the_same_instant_page_by_id(store: ports.Store) -> None:
    made = sorted(
        (store.reports.insert(new_report(created_at=BASE)).id for _ in range(5)), reverse=True
    )
    first = store.reports.search(ReportQuery(tenant_id="t1", limit=2))
    second = store.reports.search(ReportQuery(tenant_id="t1", limit=10, cursor=first.next_cursor))
    assert [r.id for r in first.results + second.results] == made
    assert second.next_cursor is None


def test_listing_narrows_by_each_attribute(store: ports.Store) -> None:
    wanted = store.reports.insert(
        new_report(template_id="sales", schedule_id="s1", created_by="bob")
    )
    store.reports.insert(new_report(template_id="sales", created_by="bob"))
    store.reports.insert(new_report())
    query = ReportQuery(tenant_id="t1", template_id="sales", schedule_id="s1", created_by="bob")
    page = store.reports.search(query)
    assert [r.id for r in page.results] == [wanted.id]
    assert page.total_count == 1
    assert store.reports.search(ReportQuery(tenant_id="t1", state="CREATED")).total_count == 3
    assert store.reports.search(ReportQuery(tenant_id="t1", state="FINISHED")).total_count == 0


def test_a_listing_carries_each_reports_artifacts(store: ports.Store) -> None:
    report = new_report()
    finished(store, report, artifact_for(report, "a.csv"), artifact_for(report, "b.csv"))
    page = store.reports.search(ReportQuery(tenant_id="t1"))
    assert [a.filename for a in page.results[0].artifacts] == ["a.csv", "b.csv"]


def test_a_cursor_that_is_not_one_is_a_validation_error(store: ports.Store) -> None:
    with pytest.raises(ValidationError):
        store.reports.search(ReportQuery(tenant_id="t1", cursor="not-a-cursor"))


def test_cancel_of_a_queued_report_is_immediate(store: ports.Store) -> None:
    report = store.reports.insert(new_report())
    canceled = store.reports.request_cancel(report.id, "t1", LATER)
    assert canceled.state is ReportState.CANCELED
    assert canceled.expires_at == LATER and canceled.finished_at is not None
    assert canceled.error is not None and canceled.error.code == "canceled"
    assert store.queue.claim("w1", 30) is None


def test_cancel_of_a_running_report_is_asked_of_its_worker(store: ports.Store) -> None:
    report = store.reports.insert(new_report())
    assert store.queue.claim("w1", 30) is not None
    flagged = store.reports.request_cancel(report.id, "t1", LATER)
    assert flagged.state is ReportState.IN_PROGRESS and flagged.cancel_requested


def test_an_ended_report_cannot_be_canceled(store: ports.Store) -> None:
    report = finished(store, new_report())
    with pytest.raises(InvalidStateTransition):
        store.reports.request_cancel(report.id, "t1", LATER)


def test_delete_hands_back_the_files_to_remove(store: ports.Store) -> None:
    report = new_report()
    finished(store, report, artifact_for(report))
    deleted, keys = store.reports.delete(report.id, "t1")
    assert deleted.id == report.id
    assert keys == [f"t1/{report.id}/orders.csv"]
    with pytest.raises(ReportNotFound):
        store.reports.get(report.id)


def test_a_running_report_cannot_be_deleted(store: ports.Store) -> None:
    report = store.reports.insert(new_report())
    assert store.queue.claim("w1", 30) is not None
    with pytest.raises(InvalidStateTransition):
        store.reports.delete(report.id, "t1")
    assert store.reports.get(report.id).state is ReportState.IN_PROGRESS


def test_a_finished_report_is_queued_again_for_more_formats(store: ports.Store) -> None:
    report = new_report()
    finished(store, report, artifact_for(report))
    again = store.reports.add_formats(report.id, (Format.CSV, Format.JSON))
    assert again.state is ReportState.CREATED
    assert again.formats == (Format.CSV, Format.JSON)
    assert [a.filename for a in again.artifacts] == ["orders.csv"]  # still downloadable
    claimed = store.queue.claim("w2", 30)
    assert claimed is not None and claimed.id == report.id and claimed.attempts == 2
    json_file = artifact_for(report, "orders.json", Format.JSON)
    assert store.queue.finish(report.id, "w2", [json_file], Progress(3, 3), LATER)
    names = [a.filename for a in store.reports.get(report.id).artifacts]
    assert names == ["orders.csv", "orders.json"]


def test_only_a_finished_report_gets_more_formats(store: ports.Store) -> None:
    report = store.reports.insert(new_report())
    with pytest.raises(InvalidStateTransition):
        store.reports.add_formats(report.id, (Format.JSON,))


def test_a_duplicate_is_the_newest_live_report_of_the_window(store: ports.Store) -> None:
    key = "k" * 64
    store.reports.insert(new_report(dedup_key=key, created_at=ago(7200)))  # before the window
    older = store.reports.insert(new_report(dedup_key=key, created_at=ago(60)))
    newer = store.reports.insert(new_report(dedup_key=key, created_at=ago(30)))
    store.reports.insert(new_report(tenant="t2", dedup_key=key))  # another tenant's
    store.reports.insert(new_report(dedup_key="x" * 64))  # another request
    found = store.reports.find_duplicate("t1", key, ago(3600))
    assert found is not None and found.id == newer.id
    store.reports.request_cancel(newer.id, "t1", LATER)  # canceled: not live any more
    found = store.reports.find_duplicate("t1", key, ago(3600))
    assert found is not None and found.id == older.id
    assert store.reports.find_duplicate("t1", key, ago(10)) is None


def test_a_failed_report_is_no_duplicate(store: ports.Store) -> None:
    report = store.reports.insert(new_report(dedup_key="k" * 64))
    assert store.queue.claim("w1", 30) is not None
    assert store.queue.end(report.id, "w1", ReportState.FAILURE, ReportError("boom", "no"))
    assert store.reports.find_duplicate("t1", "k" * 64, ago(3600)) is None


def test_retention_ends_in_expired_with_the_files_forgotten(store: ports.Store) -> None:
    first, second, live = new_report(), new_report(), new_report()
    finished(store, first, artifact_for(first), expires_at=ago(20))
    finished(store, second, artifact_for(second), expires_at=ago(10))
    finished(store, live, artifact_for(live), expires_at=LATER)
    queued = store.reports.insert(new_report())
    due = store.reports.expired(now())
    assert [r.id for r in due] == [first.id, second.id]  # the longest expired first
    assert [a.filename for a in due[0].artifacts] == ["orders.csv"]  # the files to delete
    assert [r.id for r in store.reports.expired(now(), limit=1)] == [first.id]
    assert store.reports.mark_expired(due[0])
    gone = store.reports.get(first.id)
    assert gone.state is ReportState.EXPIRED and gone.artifacts == ()
    assert not store.reports.mark_expired(due[0])  # no longer in the state it was read in
    assert [r.id for r in store.reports.expired(now())] == [second.id]
    assert queued.id not in {r.id for r in store.reports.expired(LATER)}
