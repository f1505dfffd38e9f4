"""Retention: how long files are kept, and the sweep that deletes them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from reportd.app.retention import expiry_of
from reportd.domain.errors import ReportExpired
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
