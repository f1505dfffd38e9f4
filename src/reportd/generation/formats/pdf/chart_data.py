"""What a chart needs, aggregated while the rows stream, in bounded memory.

Bar and pie charts keep sums per category (pruned to the larger half past ``MAX_CATEGORIES``;
drawn as the top N plus "Other"); a line over numeric or temporal x keeps a series that is
re-binned coarser whenever it grows past ``MAX_POINTS``.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from reportd.domain.models import ChartSpec
from reportd.generation.formats.render import finite_or_null, plain, text

MAX_CATEGORIES = 2_000  # kept while streaming; pruned to half by size when exceeded
MAX_POINTS = 2_000  # line chart points kept; re-binned coarser when exceeded


class ChartData(ABC):
    """What one chart needs, aggregated batch by batch in bounded memory."""

    def __init__(self, spec: ChartSpec, schema: pa.Schema, titles: Mapping[str, str]) -> None:
        self.spec = spec
        self.x = schema.get_field_index(spec.x)
        y = schema.get_field_index(spec.y)
        numeric = y >= 0 and _is_number(schema.field(y).type)
        self.y = y if numeric else -1  # not a number: count rows instead
        y_title = titles.get(spec.y, spec.y) if numeric else "Rows"
        self.title = f"{y_title} by {titles.get(spec.x, spec.x)}"
        self.sums: dict[Any, float] = {}

    @abstractmethod
    def add(self, batch: pa.RecordBatch) -> None:
        """Fold one batch into the aggregate."""

    def _xy(self, batch: pa.RecordBatch) -> tuple[pa.Array, pa.Array]:
        x = plain(batch.column(self.x))
        if self.y < 0:
            return x, pa.repeat(1.0, batch.num_rows) if batch.num_rows else pa.array(
                [], pa.float64()
            )
        y = pc.cast(batch.column(self.y), pa.float64())
        return x, finite_or_null(y)


class Categories(ChartData):
    """Sum of y per x (bar, pie, or a line over text x): top categories plus "Other"."""

    def __init__(self, spec: ChartSpec, schema: pa.Schema, titles: Mapping[str, str]) -> None:
        super().__init__(spec, schema, titles)
        self.other = 0.0

    def add(self, batch: pa.RecordBatch) -> None:
        x, y = self._xy(batch)
        labels = pc.fill_null(text(x), "(empty)")
        grouped = pa.table({"x": labels, "y": y}).group_by("x", use_threads=False)
        table = grouped.aggregate([("y", "sum")])
        for key, value in zip(table["x"].to_pylist(), table["y_sum"].to_pylist(), strict=True):
            self.sums[key] = self.sums.get(key, 0.0) + (value or 0.0)
        if len(self.sums) > MAX_CATEGORIES:
            self._prune()

    def _prune(self) -> None:
        """Keep the larger half: the top N shown are (nearly always) among them."""
        ranked = sorted(self.sums.items(), key=lambda item: abs(item[1]), reverse=True)
        keep = MAX_CATEGORIES // 2
        self.other += sum(value for _, value in ranked[keep:])
        self.sums = dict(ranked[:keep])

    def top(self, count: int) -> tuple[list[str], list[float]]:
        ranked = sorted(self.sums.items(), key=lambda item: item[1], reverse=True)
        shown = ranked if len(ranked) <= count else ranked[: count - 1]
        rest = self.other + sum(value for _, value in ranked[len(shown) :])
        labels = [label for label, _ in shown]
        values = [value for _, value in shown]
        if len(shown) < len(ranked) or self.other:
            labels.append("Other")
            values.append(rest)
        return labels, values


class Series(ChartData):
    """Sum of y per numeric/temporal x, re-binned coarser (doubling) to stay bounded."""

    def __init__(self, spec: ChartSpec, schema: pa.Schema, titles: Mapping[str, str]) -> None:
        super().__init__(spec, schema, titles)
        self.kind = schema.field(self.x).type
        self.width = 0.0  # 0: exact x values

    def add(self, batch: pa.RecordBatch) -> None:
        x, y = self._xy(batch)
        keys = self._bin(pc.cast(_as_number(x), pa.float64()))
        table = pa.table({"x": keys, "y": y}).filter(pc.is_valid(keys))
        table = table.group_by("x", use_threads=False).aggregate([("y", "sum")])
        for key, value in zip(table["x"].to_pylist(), table["y_sum"].to_pylist(), strict=True):
            self.sums[key] = self.sums.get(key, 0.0) + (value or 0.0)
        while len(self.sums) > MAX_POINTS:
            self._coarsen()

    def _bin(self, x: pa.Array) -> pa.Array:
        if not self.width:
            return x
        return pc.multiply(pc.floor(pc.divide(x, self.width)), self.width)

    def _coarsen(self) -> None:
        span = max(self.sums) - min(self.sums)
        self.width = self.width * 2 if self.width else span / (MAX_POINTS / 4) or 1.0
        merged: dict[float, float] = {}
        for key, value in self.sums.items():
            start = math.floor(key / self.width) * self.width
            merged[start] = merged.get(start, 0.0) + value
        self.sums = merged

    def points(self) -> tuple[list[Any], list[float]]:
        keys = sorted(self.sums)
        return [_from_number(key, self.kind) for key in keys], [self.sums[k] for k in keys]


def chart_data(
    spec: ChartSpec | None, schema: pa.Schema, titles: Mapping[str, str]
) -> ChartData | None:
    """The aggregate for ``spec``; None when there is no chart or its x column is missing."""
    if spec is None or schema.get_field_index(spec.x) < 0:
        return None
    x_type = schema.field(spec.x).type
    if spec.type == "line" and (_is_number(x_type) or _is_temporal(x_type)):
        return Series(spec, schema, titles)
    return Categories(spec, schema, titles)


def _is_number(arrow_type: pa.DataType) -> bool:
    return bool(pa.types.is_integer(arrow_type) or pa.types.is_floating(arrow_type))


def _is_temporal(arrow_type: pa.DataType) -> bool:
    return bool(pa.types.is_timestamp(arrow_type) or pa.types.is_date32(arrow_type))


def _as_number(x: pa.Array) -> pa.Array:
    """Timestamps as microseconds, dates as days: numbers that can be binned."""
    if pa.types.is_timestamp(x.type):
        return pc.cast(pc.cast(x, pa.timestamp("us", x.type.tz)), pa.int64())
    if pa.types.is_date32(x.type):
        return pc.cast(x, pa.int32())
    return x


def _from_number(value: float, kind: pa.DataType) -> Any:
    if pa.types.is_timestamp(kind):
        return datetime(1970, 1, 1) + timedelta(microseconds=value)
    if pa.types.is_date32(kind):
        return date(1970, 1, 1) + timedelta(days=value)
    return value
