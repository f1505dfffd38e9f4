"""The in-memory store's own promise: the clock it is given is "now" for every port, so a
use-case test moves time instead of waiting for it."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from reportd.domain.errors import Unavailable
from reportd.domain.states import ReportState
from reportd.testing import InMemoryStore
from tests.contract.records import BASE, new_report


class Clock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


def test_leases_run_out_when_the_clock_says_so() -> None:
    clock = Clock(BASE)
    store = InMemoryStore(clock=clock)
    report = store.reports.insert(new_report())
    assert report.created_at == BASE
    claimed = store.queue.claim("w1", 30)
    assert claimed is not None and claimed.started_at == BASE
    clock.now = BASE + timedelta(seconds=29)
    assert store.queue.reap(max_attempts=3).requeued == []
    clock.now = BASE + timedelta(seconds=31)
    assert store.queue.reap(max_attempts=3).requeued == [report.id]
    assert store.reports.get(report.id).state is ReportState.CREATED


def test_a_store_can_be_made_unavailable() -> None:
    store = InMemoryStore()
    store.check()
    store.available = False
    with pytest.raises(Unavailable):
        store.check()
