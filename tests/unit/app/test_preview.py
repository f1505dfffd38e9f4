"""Preview: a request's first rows and row count, validated like a create, no report made."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import pyarrow as pa
import pytest

from reportd.domain.errors import Forbidden, FormatInapplicable
from reportd.domain.models import ReportRequest
from tests.unit.app.conftest import World


class TableStream:
    def __init__(self, table: pa.Table) -> None:
        self._table = table

    def __iter__(self) -> Iterator[pa.RecordBatch]:
        return iter(self._table.to_batches(max_chunksize=2))

    def count(self) -> int | None:
        return self._table.num_rows

    def close(self) -> None:
        return None


class TableSource:
    name = "shop"

    def __init__(self) -> None:
        self.asked: list[Mapping[str, object]] = []

    def stream(self, sql: str, params: Mapping[str, object], *, batch_size: int) -> TableStream:
        self.asked.append(params)
        rows = [{"order_id": n, "customer": "c", "amount": 1.5} for n in range(3)]
        return TableStream(pa.Table.from_pylist(rows))

    def close(self) -> None:
        return None


def test_a_preview_shows_the_first_rows_and_the_count(world: World) -> None:
    source = TableSource()
    world.app.catalog.sources["shop"] = source
    caller = world.principal(scopes=("reports:read",))
    found = world.app.preview.preview(caller, ReportRequest(template_id="orders", formats=()))
    assert found.row_count == 3
    assert [r["order_id"] for r in found.rows] == [0, 1]  # the first batch
    assert source.asked[0]["tenant_id"] == "acme"  # bound from the caller, always
    assert world.app.reports.list(world.principal()).total_count == 0  # no report was made


def test_a_preview_is_checked_like_a_create(world: World) -> None:
    world.app.catalog.sources["shop"] = TableSource()
    with pytest.raises(Forbidden):
        world.app.preview.preview(
            world.principal(scopes=("templates:read",)), ReportRequest("orders", ())
        )
    with pytest.raises(FormatInapplicable):
        world.app.preview.preview(world.principal(), ReportRequest("orders", ("pdf",)))
