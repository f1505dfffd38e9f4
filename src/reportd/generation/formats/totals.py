"""A template's totals (``totals: {amount: sum, id: count}``), folded batch by batch.

Each total keeps a running count, sum, minimum and maximum (a few numbers, whatever the row
count), so writers can show them at the end without holding rows. Sums of integers stay exact
Python integers, of decimals exact Decimals; NaN and infinities count as NULL, as in every
format. A total over a field the report did not select is left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from reportd.domain.display import TotalKind
from reportd.generation.formats.render import finite_or_null, plain


@dataclass(slots=True)
class Total:
    name: str
    index: int  # the column in the report's schema
    kind: TotalKind
    count: int = 0
    sum: Any = None
    low: Any = None
    high: Any = None

    @property
    def value(self) -> Any:
        """The total's value: None when no row had a value (a count is then 0)."""
        if self.kind is TotalKind.COUNT:
            return self.count
        if self.kind is TotalKind.SUM:
            return self.sum
        if self.kind is TotalKind.AVG:
            if not self.count or self.sum is None:
                return None
            return self.sum / self.count  # a Decimal stays one; integers give a float
        return self.low if self.kind is TotalKind.MIN else self.high

    def add(self, column: pa.Array) -> None:
        column = plain(column)
        if pa.types.is_floating(column.type):
            column = finite_or_null(column)
        self.count += len(column) - column.null_count
        if self.kind in (TotalKind.SUM, TotalKind.AVG):
            part = pc.sum(_summable(column)).as_py()
            if part is not None:
                self.sum = part if self.sum is None else self.sum + part
        elif self.kind in (TotalKind.MIN, TotalKind.MAX):
            bounds = pc.min_max(column)
            low, high = bounds["min"].as_py(), bounds["max"].as_py()
            if low is not None:
                self.low = low if self.low is None else min(self.low, low)
                self.high = high if self.high is None else max(self.high, high)


def _summable(column: pa.Array) -> pa.Array:
    """Decimal text (exact decimals without a scale) summed as decimals."""
    if pa.types.is_string(column.type):
        return pc.cast(column, pa.decimal128(38, 10))
    return column


class Totals:
    """Every total of a template that applies to the report's columns."""

    def __init__(self, spec: Sequence[tuple[str, TotalKind]], schema: pa.Schema) -> None:
        self.items = [
            Total(name, schema.get_field_index(name), kind)
            for name, kind in spec
            if schema.get_field_index(name) >= 0
        ]

    def __bool__(self) -> bool:
        return bool(self.items)

    def add(self, batch: pa.RecordBatch) -> None:
        for total in self.items:
            total.add(batch.column(total.index))

    def by_index(self) -> dict[int, Total]:
        return {total.index: total for total in self.items}
