"""The canonical Arrow schema of a report, and conforming source batches to it.

Sources return whatever types their engine has (DuckDB HUGEINT sums arrive as decimals,
REAL as float32, TIMESTAMP_NS as nanoseconds). Every writer sees one schema instead, built
from the template's field types, so each format renders a field type one way only.
"""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa
import pyarrow.compute as pc

from reportd.domain.errors import SourceError
from reportd.domain.formats import FieldType
from reportd.domain.models import Field

_ARROW_TYPES: dict[FieldType, pa.DataType] = {
    FieldType.STRING: pa.string(),
    FieldType.INTEGER: pa.int64(),
    FieldType.NUMBER: pa.float64(),
    FieldType.BOOLEAN: pa.bool_(),
    FieldType.DATE: pa.date32(),
    FieldType.DATETIME: pa.timestamp("us"),
}

# Python's datetime (and ISO 8601 without expansion) covers years 1-9999 only; Arrow's
# cast to string prints "<value out of range>" outside it, which must never reach a file.
_MIN_US = -62_135_596_800_000_000
_MAX_US = 253_402_300_799_999_999


def canonical_schema(fields: Sequence[Field], source: pa.Schema | None = None) -> pa.Schema:
    """The report's schema: one Arrow type per field type, in the fields' order.

    Datetimes are naive unless ``source`` holds that column with a time zone, which is kept
    so that tz-aware values keep their offset in every format.
    """
    return pa.schema([_canonical_field(f, source) for f in fields])


def _canonical_field(field: Field, source: pa.Schema | None) -> pa.Field:
    arrow_type = _ARROW_TYPES[field.type]
    if field.type is FieldType.DATETIME:
        arrow_type = pa.timestamp("us", _source_tz(field.name, source))
    return pa.field(field.name, arrow_type)


def _source_tz(name: str, source: pa.Schema | None) -> str | None:
    if source is None or source.get_field_index(name) < 0:
        return None
    source_type = source.field(name).type
    return source_type.tz if pa.types.is_timestamp(source_type) else None


def conform(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    """Select, order and cast ``batch``'s columns (by name) to ``schema``.

    A naive datetime field takes the source column's time zone when it has one (see
    ``canonical_schema``). A column that is missing or cannot be cast is a ``SourceError``
    naming it.
    """
    columns = [_conform_column(batch, field) for field in schema]
    return pa.RecordBatch.from_arrays(columns, schema=_result_schema(schema, columns))


def _result_schema(schema: pa.Schema, columns: list[pa.Array]) -> pa.Schema:
    return pa.schema([pa.field(f.name, c.type) for f, c in zip(schema, columns, strict=True)])


def _conform_column(batch: pa.RecordBatch, field: pa.Field) -> pa.Array:
    index = batch.schema.get_field_index(field.name)
    if index < 0:
        raise SourceError(
            f"column {field.name!r} is missing from the query's result",
            details={"column": field.name, "columns": batch.schema.names},
        )
    column = batch.column(index)
    try:
        return _cast(column, field.type, field.name)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as exc:
        raise SourceError(
            f"column {field.name!r} of type {column.type} cannot be read as {field.type}: {exc}",
            details={"column": field.name, "from": str(column.type), "to": str(field.type)},
        ) from exc


def _cast(column: pa.Array, target: pa.DataType, name: str) -> pa.Array:
    if pa.types.is_timestamp(target):
        return _to_timestamp(column, target, name)
    if column.type == target:
        return column
    if pa.types.is_floating(target) and _is_inexact_number(column.type):
        # float32 and decimal values go through their shortest text so 0.1 stays 0.1 and
        # does not become 0.10000000149011612.
        return pc.cast(pc.cast(column, pa.string()), target)
    return pc.cast(column, target)


def _is_inexact_number(arrow_type: pa.DataType) -> bool:
    return bool(pa.types.is_float32(arrow_type) or pa.types.is_decimal(arrow_type))


def _to_timestamp(column: pa.Array, target: pa.DataType, name: str) -> pa.Array:
    tz = target.tz
    if tz is None and pa.types.is_timestamp(column.type):
        tz = column.type.tz
    wanted = pa.timestamp("us", tz)
    # Sub-microsecond digits are dropped on purpose: the canonical unit is microseconds.
    result = column if column.type == wanted else pc.cast(column, wanted, safe=False)
    _check_timestamp_range(result, name)
    return result


def _check_timestamp_range(column: pa.Array, name: str) -> None:
    if column.null_count == len(column):
        return
    bounds = pc.min_max(column.cast(pa.int64()))
    low, high = bounds["min"].as_py(), bounds["max"].as_py()
    if low < _MIN_US or high > _MAX_US:
        raise SourceError(
            f"column {name!r} holds a timestamp outside the years 1-9999",
            details={"column": name},
        )
