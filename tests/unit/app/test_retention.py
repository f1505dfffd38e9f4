"""Retention: how long files are kept, and the sweep that deletes them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from reportd.adapters.storage.memory import MemoryStorage
from reportd.app.retention import expiry_of
from reportd.domain.errors import ReportExpired, StorageUnavailable
from reportd.domain.formats import Format
from reportd.domain.models import Report
from reportd.domain.states import ReportState
from tests.unit.app.conftest import ORDERS, World


def test_expiry_is_the_shortest_of_retention_expires_in_and_expires_at() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    base = Report(
        id="r",
        tenant_id="t",
        template_id="orders",
        name="n",
        state=ReportState.FINISHED,
        formats=(Format.CSV,),
        fields=("order_id",),
    )
    assert expiry_of(base, ORDERS, now) == now + timedelta(seconds=3600)
    assert expiry_of(base.evolve(expires_in=60), ORDERS, now) == now + timedelta(seconds=60)
    sooner = now + timedelta(seconds=10)
    assert expiry_of(base.evolve(expires_at=sooner), ORDERS, now) == sooner


def test_the_sweep_deletes_files_then_marks_expired(world: World) -> None:
    caller = world.principal()
    world.create(caller)
    done = world.run_next()
    assert done.expires_at is not None
    assert world.app.runs.expire_due(done.expires_at - timedelta(seconds=1)) == []
    assert world.app.runs.expire_due(done.expires_at + timedelta(seconds=1)) == [done.id]
    assert world.storage.list_keys(f"acme/{done.id}/") == []
    assert world.store.reports.get(done.id).state is ReportState.EXPIRED
    with pytest.raises(ReportExpired):
        world.app.downloads.open_download(caller, done.id, "csv")
    assert world.app.runs.expire_due(done.expires_at + timedelta(days=1)) == []  # once


class BrittleStorage(MemoryStorage):
    """Deleting one report's files raises; another's storage is away."""

    def __init__(self, poisoned: set[str], away: set[str]) -> None:
        super().__init__("default")
        self.poisoned, self.away = poisoned, away

    def delete_prefix(self, prefix: str) -> int:
        report_id = prefix.rstrip("/").rsplit("/", 1)[-1]
        if report_id in self.poisoned:
            raise RuntimeError("a bug in a storage backend")
        if report_id in self.away:
            raise StorageUnavailable("the storage is away")
        return super().delete_prefix(prefix)


def test_one_report_that_cannot_be_swept_never_stops_the_others(world: World) -> None:
    """Issue 11, build item 3: the sweep stopped at the first report that raised, every
    pass. Now that one is expired anyway (logged), one on a storage that is away waits for
    the next sweep, and the rest are swept."""
    caller = world.principal()
    made = []
    for _ in range(3):
        world.create(caller)
        made.append(world.run_next())
    poisoned, away, good = made
    brittle = BrittleStorage({poisoned.id}, {away.id})
    world.app.catalog.storages["default"] = brittle
    later = max(r.expires_at for r in made if r.expires_at) + timedelta(seconds=1)
    assert sorted(world.app.runs.expire_due(later)) == sorted([poisoned.id, good.id])
    states = {r.id: world.store.reports.get(r.id).state for r in made}
    assert states == {
        poisoned.id: ReportState.EXPIRED,
        away.id: ReportState.FINISHED,  # tried again next sweep
        good.id: ReportState.EXPIRED,
    }
    brittle.away.clear()
    assert world.app.runs.expire_due(later) == [away.id]
