"""Progress and cancel inside the slow writers: rows are counted as they are written, and a
cancel stops a PDF or XLSX within one writer step (a fraction of a second of work).

Measured in rows, not seconds: the number of rows written after the cancel is bounded by the
writer's step, whatever the machine's speed.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import duckdb
import pytest

from reportd.adapters.sources.duckdb import DuckDBSource
from reportd.domain.errors import ReportCanceled
from reportd.domain.formats import FieldType, Format
from reportd.domain.models import Field, Template
from reportd.generation.formats.registry import writer_class
from reportd.generation.pipeline import RunControl, RunSpec, generate

BATCH = 65_536  # rows per source batch (generate()'s default)
WAIT = 120.0  # seconds a step may take on a loaded machine before the test gives up


def _world(tmp_path: Path, rows: int) -> tuple[DuckDBSource, Template]:
    path = tmp_path / "rows.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute(
            "CREATE TABLE t AS SELECT i AS id, 'customer ' || (i % 97) AS customer, "
            f"(i % 1000) / 10.0 AS amount FROM range({rows}) r(i)"
        )
    fields = (
        Field(name="id", type=FieldType.INTEGER),
        Field(name="customer", type=FieldType.STRING),
        Field(name="amount", type=FieldType.NUMBER),
    )
    template = Template(
        id="t", name="T", source="s", query="SELECT id, customer, amount FROM t ORDER BY id",
        fields=fields, formats=(Format.PDF, Format.XLSX, Format.CSV),
    )  # fmt: skip
    return DuckDBSource("s", path, threads=1, memory_limit="64MB"), template


def _wait_for(condition: object, what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.01)


@pytest.mark.parametrize(("fmt", "rows"), [(Format.PDF, 72_000), (Format.XLSX, 400_000)])
def test_progress_is_live_and_a_cancel_stops_within_one_step(
    tmp_path: Path, fmt: Format, rows: int
) -> None:
    source, template = _world(tmp_path, rows)
    spec = RunSpec(template=template, tenant_id="x", fields=("id", "customer", "amount"),
                   formats=(fmt,))  # fmt: skip
    control = RunControl()
    outcome: list[BaseException] = []

    def run() -> None:
        try:
            generate(spec, source, tmp_path, control)
        except BaseException as exc:
            outcome.append(exc)

    worker = threading.Thread(target=run)
    worker.start()
    step = writer_class(fmt).rows_per_step
    assert step is not None
    # Progress moves while the writer works, well before the first 65,536-row batch is done.
    _wait_for(lambda: control.rows >= step, "progress to move")
    seen = control.rows
    assert 0 < seen < BATCH, "progress should move inside a source batch, not once per batch"
    control.stop(ReportCanceled)
    worker.join(WAIT)
    assert not worker.is_alive()
    assert len(outcome) == 1 and isinstance(outcome[0], ReportCanceled)
    assert control.rows - seen <= step, "rows written after the cancel exceed one step"
    source.close()


def test_fast_formats_keep_whole_batches() -> None:
    assert writer_class(Format.CSV).rows_per_step is None
    assert writer_class(Format.PARQUET).rows_per_step is None
