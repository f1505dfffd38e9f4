"""The report's Arrow schema, from the template's field types, and every batch cast to it.

Sources return whatever their engine has: DuckDB HUGEINT sums as decimals, PostgreSQL NUMERIC
as text, SQLite timestamps as strings with or without offsets, booleans as 0/1, JSON as text
or lists. Every writer sees one schema instead, fixed before the first batch is written, so
each field type renders one way in every format, whatever the source and whatever the values
of the first batch (an all-NULL first batch decides nothing).

| field type | Arrow type | from |
| --- | --- | --- |
| string | string | any: the canonical text of the value (render.text); lists/structs as JSON |
| integer | int64 | integers, booleans, whole floats/decimals, integer text |
| number | float64 | numbers, numeric text; NaN/inf become NULL in every format |
| decimal | decimal128(p, s), or exact text | decimals, integers, numeric text; NaN is NULL |
| boolean | bool | booleans, integers 0/1, ``true``/``false``/``1``/``0`` text |
| date | date32 | dates, timestamps (the date part), ISO text |
| datetime | timestamp[us, tz?] | timestamps, dates, ISO text with or without offset |
| time | time64[us] | times, ``HH:MM:SS[.ffffff]`` text |
| json | string (valid JSON text) | JSON/JSONB, text, lists, structs, numbers |
| list | string (a JSON array) | arrays/lists, JSON array text |

``decimal`` takes its precision and scale from the field (``precision``, ``scale``), else from
the source column's own decimal type (or PostgreSQL's ``numeric(p,s)``). A decimal with no
scale anywhere (PostgreSQL's bare ``numeric``, SQLite, text) is kept as its exact decimal text
(a string in Parquet too), so ``12345678901234567.89`` is neither rounded nor padded.
``datetime`` with a ``timezone`` writes every value as an instant in that zone (naive values
are read as being in it). Without one it keeps the source column's own time zone, and text
is naive: a value with an offset is written as its UTC time. Nothing depends on the values of
the first batch.

A value that does not fit is a ``SourceError`` naming the field, the row and the value. The
casts themselves, one per field type, are ``reportd.generation.formats.casts``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import pyarrow as pa
import pyarrow.compute as pc

from reportd.domain.errors import SourceError
from reportd.domain.formats import FieldType
from reportd.domain.models import Field
from reportd.generation.formats.casts import CASTS, storage_type, unwrap

DEFAULT_PRECISION: Final = 38
TYPE_KEY: Final = b"reportd.type"

_ARROW_TYPES: Final[dict[FieldType, pa.DataType]] = {
    FieldType.STRING: pa.string(),
    FieldType.INTEGER: pa.int64(),
    FieldType.NUMBER: pa.float64(),
    FieldType.BOOLEAN: pa.bool_(),
    FieldType.DATE: pa.date32(),
    FieldType.DATETIME: pa.timestamp("us"),
    FieldType.TIME: pa.time64("us"),
    FieldType.JSON: pa.string(),
    FieldType.LIST: pa.string(),
}


def canonical_schema(
    fields: Sequence[Field], source: pa.Schema | pa.RecordBatch | None = None
) -> pa.Schema:
    """The report's schema: one Arrow type per field, in the fields' order.

    ``source`` is the first batch (or its schema): its column *types*, never its values,
    refine decimals and time zones. Each field carries its reportd type as metadata
    (``reportd.type``) for the writers.
    """
    schema = source.schema if isinstance(source, pa.RecordBatch) else source
    return pa.schema([_canonical_field(f, schema) for f in fields])


def _source_field(name: str, schema: pa.Schema | None) -> pa.Field | None:
    if schema is None or schema.get_field_index(name) < 0:
        return None
    return schema.field(name)


def _canonical_field(field: Field, schema: pa.Schema | None) -> pa.Field:
    source = _source_field(field.name, schema)
    if field.type is FieldType.DECIMAL:
        arrow_type = _decimal_type(field, source)
    elif field.type is FieldType.DATETIME:
        arrow_type = pa.timestamp("us", field.timezone or _datetime_tz(source))
    else:
        arrow_type = _ARROW_TYPES[field.type]
    return pa.field(field.name, arrow_type, metadata={TYPE_KEY: field.type.value.encode()})


def field_type(field: pa.Field) -> FieldType | None:
    """The reportd type a canonical schema field was made for (None: not made by us)."""
    raw = (field.metadata or {}).get(TYPE_KEY)
    return FieldType(raw.decode()) if raw else None


def _decimal_type(field: Field, source: pa.Field | None) -> pa.DataType:
    if field.scale is not None or field.precision is not None:
        return pa.decimal128(field.precision or DEFAULT_PRECISION, field.scale or 0)
    if source is not None:
        if pa.types.is_decimal(source.type) and source.type.precision <= DEFAULT_PRECISION:
            return pa.decimal128(source.type.precision, source.type.scale)
        typmod = int((source.metadata or {}).get(b"POSTGRESQL:typmod", b"-1"))
        if typmod >= 4:  # numeric(p, s): ((p << 16) | s) + 4
            precision, scale = (typmod - 4) >> 16, (typmod - 4) & 0xFFFF
            if 0 < precision <= DEFAULT_PRECISION:
                return pa.decimal128(precision, scale)
    return pa.string()  # no scale known: the exact text


def _datetime_tz(source: pa.Field | None) -> str | None:
    if source is None:
        return None
    kind = storage_type(source.type)
    if pa.types.is_timestamp(kind) and kind.tz:
        return str(kind.tz)
    return None


def conform(batch: pa.RecordBatch, schema: pa.Schema, *, first_row: int = 0) -> pa.RecordBatch:
    """Select, order and cast ``batch``'s columns (by name) to ``schema``.

    ``first_row`` is how many rows came before this batch, so an error names the row of
    the whole result (1-based). A missing column or a value that does not fit is a
    ``SourceError`` naming the field (and the row and value).
    """
    columns = [_conform_column(batch, field, first_row) for field in schema]
    return pa.RecordBatch.from_arrays(columns, schema=schema)


def _conform_column(batch: pa.RecordBatch, field: pa.Field, first_row: int) -> pa.Array:
    index = batch.schema.get_field_index(field.name)
    if index < 0:
        raise SourceError(
            f"column {field.name!r} is missing from the query's result",
            details={"column": field.name, "columns": batch.schema.names},
        )
    column = unwrap(batch.column(index))
    kind = field_type(field) or _kind_of(field.type)
    cast = CASTS[kind]
    try:
        return cast(column, field.type, field.name)
    except SourceError:
        raise
    except (pa.ArrowException, ValueError, TypeError, OverflowError) as exc:
        raise _misfit(column, field, kind, first_row, exc) from exc


def _kind_of(arrow_type: pa.DataType) -> FieldType:
    """The field type of a schema made without metadata (by hand, in tests)."""
    for kind, known in _ARROW_TYPES.items():
        if known == arrow_type and kind not in (FieldType.JSON, FieldType.LIST):
            return kind
    if pa.types.is_timestamp(arrow_type):
        return FieldType.DATETIME
    if pa.types.is_decimal(arrow_type):
        return FieldType.DECIMAL
    return FieldType.STRING


def _misfit(
    column: pa.Array, field: pa.Field, kind: FieldType, first_row: int, exc: BaseException
) -> SourceError:
    """The error for the first value of ``column`` that does not cast (found one by one)."""
    cast = CASTS[kind]
    for i in range(len(column)):
        if not column[i].is_valid:
            continue
        try:
            cast(column.slice(i, 1), field.type, field.name)
        except (pa.ArrowException, ValueError, TypeError, OverflowError, SourceError) as one:
            value = _shown(column, i)
            row = first_row + i + 1
            reason = str(one).splitlines()[0] if str(one) else type(one).__name__
            return SourceError(
                f"field {field.name!r} ({kind.value}), row {row}: value {value} "
                f"(source type {column.type}) does not fit a {kind.value} field: {reason}",
                details={
                    "field": field.name,
                    "column": field.name,
                    "row": row,
                    "value": value,
                    "type": kind.value,
                },
            )
    return SourceError(
        f"field {field.name!r} ({kind.value}): source type {column.type} cannot be read as "
        f"{kind.value}: {exc}",
        details={"field": field.name, "column": field.name, "from": str(column.type)},
    )


def _shown(column: pa.Array, index: int) -> str:
    try:
        shown = repr(column[index].as_py())
    except (ValueError, OverflowError, TypeError):  # a timestamp Python cannot hold
        raw = pc.cast(column.slice(index, 1), pa.int64())[0].as_py()
        shown = f"{raw} ({column.type} since 1970-01-01)"
    return shown if len(shown) <= 200 else shown[:200] + "…"
