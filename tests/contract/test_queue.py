"""WorkQueue: claims under a lease, finishing once, a late cancel winning, reaping with attempts.

A lease that has already run out is asked for with a negative ``lease_seconds``, so no test
waits on the clock.
"""

from __future__ import annotations

import threading

from reportd.app import ports
from reportd.domain.models import Progress, ReportError
from reportd.domain.states import ReportState
from tests.contract.records import BASE, LATER, artifact_for, finished, in_threads, new_report, now

EXPIRED = -1.0  # lease_seconds of a lease that ran out a second ago


def test_claims_oldest_first_and_only_once(store: ports.Store) -> None:
    second = store.reports.insert(new_report(created_at=BASE.replace(day=2)))
    first = store.reports.insert(new_report(created_at=BASE))
    claimed = store.queue.claim("w1", 30)
    assert claimed is not None and claimed.id == first.id
    assert claimed.state is ReportState.IN_PROGRESS
    assert claimed.attempts == 1 and claimed.started_at is not None
    again = store.queue.claim("w2", 30)
    assert again is not None and again.id == second.id
    assert store.queue.claim("w3", 30) is None


def test_concurrent_claims_never_share_a_report(store: ports.Store) -> None:
    inserted = {store.reports.insert(new_report()).id for _ in range(30)}
    claimed: list[str] = []
    lock = threading.Lock()

    def claim_all(worker: int) -> None:
        while (report := store.queue.claim(f"w{worker}", 30)) is not None:
            with lock:
                claimed.append(report.id)

    in_threads(6, claim_all)
    assert sorted(claimed) == sorted(inserted)


def test_finish_records_the_files_only_while_holding_the_lease(store: ports.Store) -> None:
    report = store.reports.insert(new_report())
    assert store.queue.claim("w1", 30) is not None
    files = [artifact_for(report)]
    assert not store.queue.finish(report.id, "intruder", files, Progress(3, 3), LATER)
    assert store.queue.finish(report.id, "w1", files, Progress(3, 3), LATER, data_key="t1/kept")
    done = store.reports.get(report.id, "t1")
    assert done.state is ReportState.FINISHED
    assert done.finished_at is not None and done.expires_at == LATER
    assert [a.filename for a in done.artifacts] == ["orders.csv"]
    assert done.artifacts[0].created_at is not None
    assert done.progress == Progress(3, 3) and done.data_key == "t1/kept"
    # A second finish (a worker that lost its lease, say) changes nothing.
    assert not store.queue.finish(report.id, "w1", files, Progress(9, 9), LATER)
    assert len(store.reports.get(report.id).artifacts) == 1


def test_a_cancel_after_the_last_heartbeat_still_wins_at_finish(store: ports.Store) -> None:
    report = store.reports.insert(new_report())
    assert store.queue.claim("w1", 30) is not None
    store.reports.request_cancel(report.id, "t1", LATER)
    assert not store.queue.finish(report.id, "w1", [artifact_for(report)], Progress(3, 3), LATER)
    ended = store.reports.get(report.id)
    assert ended.state is ReportState.CANCELED
    assert ended.artifacts == ()
    assert ended.error is not None and ended.error.code == "canceled"
    assert ended.expires_at == LATER


def test_heartbeat_renews_the_lease_records_progress_and_tells_of_cancel(
    store: ports.Store,
) -> None:
    report = store.reports.insert(new_report())
    assert store.queue.claim("w1", EXPIRED) is not None
    beat = store.queue.heartbeat(report.id, "w1", 30, Progress(10, 100))
    assert beat.alive and not beat.cancel_requested
    assert store.queue.reap(max_attempts=3).requeued == []  # renewed: not dead
    assert store.reports.get(report.id).progress == Progress(10, 100)
    store.reports.request_cancel(report.id, "t1", LATER)
    assert store.queue.heartbeat(report.id, "w1", 30, Progress(20, 100)).cancel_requested
    lost = store.queue.heartbeat(report.id, "other", 30, Progress())
    assert not lost.alive and not lost.cancel_requested


def test_a_run_out_lease_is_requeued_then_fails_after_max_attempts(store: ports.Store) -> None:
    report = store.reports.insert(new_report())
    claimed = store.queue.claim("w1", EXPIRED)
    assert claimed is not None and claimed.attempts == 1
    result = store.queue.reap(max_attempts=2)
    assert result.requeued == [report.id] and result.failed == []
    requeued = store.reports.get(report.id)
    assert requeued.state is ReportState.CREATED and requeued.progress.rows == 0
    assert not store.queue.heartbeat(report.id, "w1", 30, Progress()).alive  # w1 lost it
    claimed = store.queue.claim("w2", EXPIRED)
    assert claimed is not None and claimed.attempts == 2
    result = store.queue.reap(max_attempts=2, retention=3600)
    assert result.failed == [report.id] and result.requeued == []
    failed = store.reports.get(report.id)
    assert failed.state is ReportState.FAILURE
    assert failed.error is not None and failed.error.code == "attempts_exhausted"
    assert failed.expires_at is not None and failed.expires_at > now()
    # The first worker waking up late cannot finish it.
    assert not store.queue.finish(report.id, "w1", [], Progress(), LATER)
    assert store.queue.reap(max_attempts=2) == type(result)(requeued=[], failed=[], canceled=[])


def test_a_dead_run_that_was_asked_to_cancel_ends_canceled(store: ports.Store) -> None:
    report = store.reports.insert(new_report())
    assert store.queue.claim("w1", EXPIRED) is not None
    store.reports.request_cancel(report.id, "t1", LATER)
    result = store.queue.reap(max_attempts=3)
    assert result.canceled == [report.id] and result.requeued == []
    assert store.reports.get(report.id).state is ReportState.CANCELED


def test_a_live_lease_is_not_reaped(store: ports.Store) -> None:
    report = store.reports.insert(new_report())
    assert store.queue.claim("w1", 30) is not None
    assert store.queue.reap(max_attempts=1) == type(store.queue.reap(1))([], [], [])
    assert store.reports.get(report.id).state is ReportState.IN_PROGRESS


def test_a_parked_report_comes_back_after_its_retry_time(store: ports.Store) -> None:
    report = store.reports.insert(new_report())
    assert store.queue.claim("w1", 30) is not None
    assert store.queue.heartbeat(report.id, "w1", 30, Progress(5, 10)).alive
    assert store.queue.park(report.id, "w1", 3600)
    assert store.queue.reap(max_attempts=3).retried == []  # not yet
    assert not store.queue.heartbeat(report.id, "w1", 30, Progress()).alive  # given up
    assert store.queue.claim("w2", 30) is None  # and nobody else's either
    other = store.reports.insert(new_report())
    assert store.queue.claim("w2", 30) is not None
    assert store.queue.park(other.id, "w2", EXPIRED)
    result = store.queue.reap(max_attempts=3)
    assert result.retried == [other.id] and result.requeued == []
    back = store.queue.claim("w3", 30)
    assert back is not None and back.id == other.id and back.attempts == 2  # the attempt counts


def test_a_parked_report_out_of_attempts_fails(store: ports.Store) -> None:
    report = store.reports.insert(new_report())
    assert store.queue.claim("w1", 30) is not None
    assert store.queue.park(report.id, "w1", EXPIRED)
    assert store.queue.reap(max_attempts=1).failed == [report.id]


def test_release_hands_back_without_counting_and_end_records_the_outcome(
    store: ports.Store,
) -> None:
    report = store.reports.insert(new_report())
    assert store.queue.claim("w1", 30) is not None
    assert not store.queue.release(report.id, "intruder")
    assert store.queue.release(report.id, "w1")
    requeued = store.reports.get(report.id)
    assert requeued.state is ReportState.CREATED and requeued.attempts == 0
    assert not store.queue.release(report.id, "w1")  # not held any more
    assert store.queue.claim("w2", 30) is not None
    error = ReportError("timeout", "slow")
    assert not store.queue.end(report.id, "w1", ReportState.TIMEOUT, error)
    assert store.queue.end(report.id, "w2", ReportState.TIMEOUT, error, LATER)
    ended = store.reports.get(report.id)
    assert ended.state is ReportState.TIMEOUT and ended.error == error
    assert ended.expires_at == LATER and ended.finished_at is not None
    assert not store.queue.end(report.id, "w2", ReportState.FAILURE, error)  # ended once


def test_depth_and_counts_by_state(store: ports.Store) -> None:
    assert store.queue.queue_depth() == 0
    counts = store.queue.count_by_state()
    assert counts == {state.value: 0 for state in ReportState}
    for _ in range(3):
        store.reports.insert(new_report())
    finished(store, new_report(created_at=BASE))  # the oldest, so the one claimed
    assert store.queue.claim("w1", 30) is not None
    assert store.queue.queue_depth() == 2
    counts = store.queue.count_by_state()
    assert counts["CREATED"] == 2 and counts["IN_PROGRESS"] == 1 and counts["FINISHED"] == 1
    assert sum(counts.values()) == 4
