"""The reports table as a queue on SQLite and PostgreSQL: claims, leases, reaping, finish once."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from reportd.adapters.db import Store
from reportd.domain.formats import Format, Packaging
from reportd.domain.listing import ReportQuery
from reportd.domain.models import Artifact, Progress, Report, ReportError
from reportd.domain.states import ReportState


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    store = Store.connect(database_url)
    store.migrate()
    yield store
    store.close()


LATER = datetime(2099, 1, 1, tzinfo=UTC)


def new_report(tenant: str = "t1", **changes: object) -> Report:
    report = Report(
        id=str(uuid.uuid4()),
        tenant_id=tenant,
        template_id="orders",
        name="Orders",
        state=ReportState.CREATED,
        formats=(Format.CSV,),
        fields=("order_id",),
    )
    return report.evolve(**changes)


def artifact_for(report: Report) -> Artifact:
    return Artifact(
        report_id=report.id,
        format=Format.CSV,
        packaging=Packaging.NONE,
        filename="orders.csv",
        mime_type="text/csv",
        size=3,
        sha256="0" * 64,
        storage_key=f"{report.tenant_id}/{report.id}/orders.csv",
    )


def test_claims_oldest_first_and_only_once(store: Store) -> None:
    first = store.reports.insert(new_report())
    second = store.reports.insert(new_report())
    claimed = store.queue.claim("w1", 30)
    assert claimed is not None and claimed.id == first.id
    assert claimed.state is ReportState.IN_PROGRESS and claimed.attempts == 1
    again = store.queue.claim("w2", 30)
    assert again is not None and again.id == second.id
    assert store.queue.claim("w3", 30) is None


def test_concurrent_claims_never_share_a_report(store: Store) -> None:
    inserted = {store.reports.insert(new_report()).id for _ in range(40)}
    claimed: list[str] = []
    lock = threading.Lock()

    def claim_all(worker: str) -> None:
        while (report := store.queue.claim(worker, 30)) is not None:
            with lock:
                claimed.append(report.id)

    threads = [threading.Thread(target=claim_all, args=(f"w{i}",)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(claimed) == sorted(inserted)


def test_finish_records_artifacts_only_while_holding_the_lease(store: Store) -> None:
    report = store.reports.insert(new_report())
    claimed = store.queue.claim("w1", 30)
    assert claimed is not None
    expires = datetime.now(UTC) + timedelta(days=1)
    assert not store.queue.finish(
        report.id, "intruder", [artifact_for(report)], Progress(3, 3), expires
    )
    assert store.queue.finish(report.id, "w1", [artifact_for(report)], Progress(3, 3), expires)
    done = store.reports.get(report.id, "t1")
    assert done.state is ReportState.FINISHED
    assert [a.filename for a in done.artifacts] == ["orders.csv"]
    assert done.progress == Progress(3, 3)
    # A second finish (say, a worker that lost its lease) changes nothing.
    assert not store.queue.finish(report.id, "w1", [artifact_for(report)], Progress(9, 9), expires)
    assert len(store.reports.get(report.id).artifacts) == 1


def test_expired_lease_is_requeued_then_fails_after_max_attempts(store: Store) -> None:
    report = store.reports.insert(new_report())
    for attempt in (1, 2):
        claimed = store.queue.claim(f"w{attempt}", 0.05)
        assert claimed is not None and claimed.attempts == attempt
        time.sleep(0.1)
        result = store.queue.reap(max_attempts=2)
        if attempt == 1:
            assert result.requeued == [report.id]
            assert store.reports.get(report.id).state is ReportState.CREATED
    failed = store.reports.get(report.id)
    assert failed.state is ReportState.FAILURE
    assert failed.error is not None and failed.error.code == "attempts_exhausted"
    # The first worker waking up late cannot finish it.
    assert not store.queue.finish(report.id, "w1", [], Progress(), datetime.now(UTC))


def test_heartbeat_renews_the_lease_and_reports_cancel(store: Store) -> None:
    report = store.reports.insert(new_report())
    assert store.queue.claim("w1", 0.3) is not None
    for _ in range(4):
        time.sleep(0.1)
        beat = store.queue.heartbeat(report.id, "w1", 0.3, Progress(10, 100))
        assert beat.alive and not beat.cancel_requested
    assert store.queue.reap(max_attempts=3).requeued == []
    assert store.reports.get(report.id).progress == Progress(10, 100)
    store.reports.request_cancel(report.id, "t1", LATER)
    assert store.queue.heartbeat(report.id, "w1", 0.3, Progress(20, 100)).cancel_requested
    assert not store.queue.heartbeat(report.id, "other", 0.3, Progress()).alive


def test_cancel_of_a_queued_report_is_immediate(store: Store) -> None:
    report = store.reports.insert(new_report())
    canceled = store.reports.request_cancel(report.id, "t1", LATER)
    assert canceled.state is ReportState.CANCELED
    assert canceled.expires_at == LATER
    assert store.queue.claim("w1", 30) is None


def test_a_cancel_after_the_last_heartbeat_still_wins_at_finish(store: Store) -> None:
    report = store.reports.insert(new_report())
    assert store.queue.claim("w1", 30) is not None
    store.reports.request_cancel(report.id, "t1", LATER)
    assert not store.queue.finish(report.id, "w1", [artifact_for(report)], Progress(3, 3), LATER)
    ended = store.reports.get(report.id)
    assert ended.state is ReportState.CANCELED
    assert ended.artifacts == ()
    assert ended.error is not None and ended.error.code == "canceled"


def test_end_and_release(store: Store) -> None:
    report = store.reports.insert(new_report())
    assert store.queue.claim("w1", 30) is not None
    assert store.queue.release(report.id, "w1")
    requeued = store.reports.get(report.id)
    assert requeued.state is ReportState.CREATED and requeued.attempts == 0
    assert store.queue.claim("w2", 30) is not None
    assert store.queue.end(report.id, "w2", ReportState.TIMEOUT, ReportError("timeout", "slow"))
    ended = store.reports.get(report.id)
    assert ended.state is ReportState.TIMEOUT and ended.error == ReportError("timeout", "slow")


def test_listing_pages_newest_first_within_the_tenant(store: Store) -> None:
    base = datetime(2024, 1, 1, tzinfo=UTC)
    made = [
        store.reports.insert(new_report(created_at=base + timedelta(seconds=i))) for i in range(7)
    ]
    store.reports.insert(new_report(tenant="t2"))
    seen: list[str] = []
    cursor = None
    while True:
        page = store.reports.search(ReportQuery(tenant_id="t1", limit=3, cursor=cursor))
        assert page.total_count == 7
        seen.extend(r.id for r in page.results)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == [r.id for r in reversed(made)]
    assert store.reports.search(ReportQuery(tenant_id="t1", state="FINISHED")).total_count == 0
