"""Small records for the contract tests: each test builds the few it needs."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from reportd.app import ports
from reportd.domain.formats import Format, Packaging
from reportd.domain.models import Artifact, Progress, Report
from reportd.domain.states import ReportState

LATER = datetime(2099, 1, 1, tzinfo=UTC)
BASE = datetime(2024, 1, 1, tzinfo=UTC)


def now() -> datetime:
    return datetime.now(UTC)


def new_report(tenant: str = "t1", **changes: Any) -> Report:
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


def artifact_for(report: Report, name: str = "orders.csv", fmt: Format = Format.CSV) -> Artifact:
    return Artifact(
        report_id=report.id,
        format=fmt,
        packaging=Packaging.NONE,
        filename=name,
        mime_type="text/csv",
        size=3,
        sha256="0" * 64,
        storage_key=f"{report.tenant_id}/{report.id}/{name}",
        rows=3,
    )


def finished(store: ports.Store, report: Report, *files: Artifact, **changes: Any) -> Report:
    """``report`` inserted, claimed and finished with ``files``; returns it as stored.

    The claim takes the oldest queued report: call it before queueing older ones.
    """
    store.reports.insert(report)
    claimed = store.queue.claim("finisher", 30)
    assert claimed is not None and claimed.id == report.id
    expires = changes.pop("expires_at", LATER)
    assert store.queue.finish(report.id, "finisher", files, Progress(3, 3), expires, **changes)
    return store.reports.get(report.id)


def in_threads(count: int, work: Callable[[int], None]) -> None:
    """Run ``work(i)`` for i in range(count), all at once; re-raise the first failure."""
    errors: list[BaseException] = []
    barrier = threading.Barrier(count)

    def run(i: int) -> None:
        try:
            barrier.wait()
            work(i)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


def ago(seconds: float) -> datetime:
    return now() - timedelta(seconds=seconds)
