"""The in-memory store's own promises: the clock it is given is "now" for every port (a
use-case test moves time instead of waiting for it), an outage can be switched on, and its
``AsyncReads`` reads the same data as its sync ports."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest

from reportd.domain.errors import ReportNotFound, Unavailable
from reportd.domain.models import ApiKey, Tenant
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


def test_async_reads_see_the_same_records_and_auth_changes() -> None:
    store = InMemoryStore()
    store.tenants.create_tenant(Tenant("t1", "One"))
    key = store.tenants.create_key(
        ApiKey("k1", "t1", "ci", frozenset({"reports:read"}), key_hash="h" * 64)
    )
    report = store.reports.insert(new_report())
    reads = store.async_reads

    async def read() -> None:
        await reads.open()
        assert await reads.get_report(report.id, "t1") == store.reports.get(report.id)
        with pytest.raises(ReportNotFound):
            await reads.get_report(report.id, "t2")
        assert await reads.find_key(key.key_hash) == store.tenants.find_key(key.key_hash)
        before = await reads.auth_version()
        store.tenants.revoke_key(key.id)
        assert await reads.auth_version() != before
        assert await reads.find_key(key.key_hash) is None
        await reads.close()

    asyncio.run(read())
