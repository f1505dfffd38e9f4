"""One cast per field type: a source column, whatever its engine made of it, to the
canonical Arrow type of its field (``schema`` says which, and why one schema for every
writer). Apart from ``schema`` because the casts are the bulk of the rules and change alone:
a new source quirk is a line here, the schema and its errors stay as they are.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Callable
from typing import Any, Final

import orjson
import pyarrow as pa
import pyarrow.compute as pc

from reportd.domain.formats import FieldType
from reportd.generation.formats.render import plain, text

__all__ = ["CASTS", "Cast", "storage_type", "unwrap"]

# Python's datetime (and ISO 8601 without expansion) covers years 1-9999 only; Arrow's
# cast to string prints "<value out of range>" outside it, which must never reach a file.
_MIN_US = -62_135_596_800_000_000
_MAX_US = 253_402_300_799_999_999
_OFFSET_RE: Final = r"([zZ]|[+-]\d\d(:?\d\d)?)$"
_DECIMAL_RE: Final = r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$"
_NOT_FINITE: Final = frozenset({"nan", "-nan", "+nan", "infinity", "-infinity", "+infinity",
                                "inf", "-inf", "+inf"})  # fmt: skip

# A cast: the column, the field's Arrow type, the field's name; raises when a value does not fit.
Cast = Callable[[pa.Array, pa.DataType, str], pa.Array]


# -- the source's column, readied ---------------------------------------------------------


def storage_type(arrow_type: pa.DataType) -> pa.DataType:
    if isinstance(arrow_type, pa.BaseExtensionType):
        return arrow_type.storage_type
    if pa.types.is_dictionary(arrow_type):
        return arrow_type.value_type
    return arrow_type


def unwrap(column: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Extension arrays (PostgreSQL numeric/json/uuid), dictionaries, large strings: plain."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    if isinstance(column.type, pa.BaseExtensionType):
        if str(column.type.extension_name) == "arrow.uuid":
            return pa.array(
                [
                    None if v is None else str(uuid.UUID(bytes=v))
                    for v in column.storage.to_pylist()
                ],
                pa.string(),
            )
        column = column.storage
    return plain(column)


def _is_text(arrow_type: pa.DataType) -> bool:
    return bool(
        pa.types.is_string(arrow_type)
        or pa.types.is_large_string(arrow_type)
        or pa.types.is_string_view(arrow_type)
        or pa.types.is_binary(arrow_type)
        or pa.types.is_large_binary(arrow_type)
    )


def _as_text(column: pa.Array) -> pa.Array:
    if pa.types.is_string(column.type):
        return column
    return pc.cast(column, pa.string())


def _is_nested(arrow_type: pa.DataType) -> bool:
    return bool(pa.types.is_nested(arrow_type))


# -- one cast per field type --------------------------------------------------------------


def _to_string(column: pa.Array, target: pa.DataType, name: str) -> pa.Array:
    if pa.types.is_null(column.type):
        return pa.nulls(len(column), pa.string())
    if _is_nested(column.type):
        return _json_of_values(column)
    if _is_text(column.type):
        return _as_text(column)
    return text(column)


def _to_integer(column: pa.Array, target: pa.DataType, name: str) -> pa.Array:
    if pa.types.is_null(column.type):
        return pa.nulls(len(column), target)
    if _is_text(column.type):
        column = pc.utf8_trim_whitespace(_as_text(column))
    return pc.cast(column, target)  # safe: a fraction or an overflow raises


def _to_number(column: pa.Array, target: pa.DataType, name: str) -> pa.Array:
    if pa.types.is_null(column.type):
        return pa.nulls(len(column), target)
    if column.type == target:
        return column
    if pa.types.is_float32(column.type) or pa.types.is_decimal(column.type):
        # float32 and decimal values go through their shortest text so 0.1 stays 0.1 and
        # does not become 0.10000000149011612.
        return pc.cast(pc.cast(column, pa.string()), target)
    if _is_text(column.type):
        column = pc.utf8_trim_whitespace(_as_text(column))
    return pc.cast(column, target)


def _to_decimal(column: pa.Array, target: pa.DataType, name: str) -> pa.Array:
    if pa.types.is_null(column.type):
        return pa.nulls(len(column), target)
    if pa.types.is_string(target):
        return _decimal_text(column)
    if column.type == target:
        return column
    if pa.types.is_floating(column.type):
        finite = pc.is_finite(column)
        column = pc.if_else(finite, column, pa.scalar(None, column.type))
        column = pc.cast(pc.round(column, ndigits=target.scale), pa.string())
    if _is_text(column.type):
        column = pc.utf8_trim_whitespace(_as_text(column))
        lowered = pc.utf8_lower(column)
        not_finite = pc.is_in(lowered, value_set=pa.array(sorted(_NOT_FINITE)))
        if pc.any(not_finite).as_py():
            column = pc.if_else(not_finite, pa.scalar(None, pa.string()), column)
    return pc.cast(column, target)  # safe: digits beyond the scale or precision raise


def _decimal_text(column: pa.Array) -> pa.Array:
    """Exact decimal text: numbers as their canonical text, text checked to be a number."""
    if not _is_text(column.type):
        return text(column)  # integers, decimals, floats (shortest round-trip; NaN is NULL)
    column = pc.utf8_trim_whitespace(_as_text(column))
    not_finite = pc.is_in(pc.utf8_lower(column), value_set=pa.array(sorted(_NOT_FINITE)))
    if pc.any(not_finite).as_py():
        column = pc.if_else(not_finite, pa.scalar(None, pa.string()), column)
    numeric = pc.match_substring_regex(column, _DECIMAL_RE)
    if pc.any(pc.invert(pc.fill_null(numeric, True))).as_py():
        raise ValueError("not a decimal number")
    return column


def _to_boolean(column: pa.Array, target: pa.DataType, name: str) -> pa.Array:
    if pa.types.is_null(column.type):
        return pa.nulls(len(column), target)
    if pa.types.is_boolean(column.type):
        return column
    if pa.types.is_integer(column.type) or pa.types.is_decimal(column.type):
        column = pc.cast(column, pa.int64())
        valid = pc.or_(pc.is_in(column, value_set=pa.array([0, 1], pa.int64())), pc.is_null(column))
        if not pc.all(valid).as_py():
            raise ValueError("a boolean stored as an integer must be 0 or 1")
        return pc.cast(column, target)
    if _is_text(column.type):
        column = pc.utf8_lower(pc.utf8_trim_whitespace(_as_text(column)))
    return pc.cast(column, target)


def _to_date(column: pa.Array, target: pa.DataType, name: str) -> pa.Array:
    if pa.types.is_null(column.type):
        return pa.nulls(len(column), target)
    if pa.types.is_timestamp(column.type):
        _check_timestamp_range(pc.cast(column, pa.timestamp("us", column.type.tz), safe=False))
        if column.type.tz is not None:
            column = pc.local_timestamp(column)
        return pc.cast(column, target, safe=False)
    if _is_text(column.type):
        column = pc.utf8_trim_whitespace(_as_text(column))
    return pc.cast(column, target)


def _to_timestamp(column: pa.Array, target: pa.DataType, name: str) -> pa.Array:
    if pa.types.is_null(column.type):
        return pa.nulls(len(column), target)
    tz = target.tz
    if _is_text(column.type):
        result = _parse_timestamps(_as_text(column), tz)
    elif pa.types.is_date(column.type):
        result = pc.cast(column, pa.timestamp("us"))
        if tz is not None:
            result = pc.assume_timezone(result, timezone=tz)
    else:
        source_tz = column.type.tz if pa.types.is_timestamp(column.type) else None
        wanted = pa.timestamp("us", source_tz)
        # Sub-microsecond digits are dropped on purpose: the canonical unit is microseconds.
        result = column if column.type == wanted else pc.cast(column, wanted, safe=False)
        if source_tz is None and tz is not None:
            result = pc.assume_timezone(result, timezone=tz)
        elif source_tz is not None and tz is None:
            result = pc.cast(pc.cast(result, pa.int64()), pa.timestamp("us"))
        elif source_tz is not None and tz != source_tz:
            result = pc.cast(result, pa.timestamp("us", tz))
    _check_timestamp_range(result)
    return result


def _parse_timestamps(column: pa.Array, tz: str | None) -> pa.Array:
    """ISO 8601 text, with or without an offset, as microseconds (see the module docstring)."""
    try:
        naive = pc.cast(column, pa.timestamp("us"))
    except pa.ArrowInvalid:
        pass  # an offset, spaces around, 7+ fractional digits or not a time: parsed below
    else:
        # The usual text (SQLite's): no offset anywhere, so each value is a wall time, as
        # the full parse below would find, at a seventh of its cost (its regex passes).
        return naive if tz is None else pc.assume_timezone(naive, timezone=tz)
    column = pc.utf8_trim_whitespace(column)
    if pc.any(pc.match_substring_regex(column, r"\.\d{7,}")).as_py():
        column = pc.replace_substring_regex(column, r"(\.\d{6})\d+", r"\1")
    has_offset = pc.fill_null(pc.match_substring_regex(column, _OFFSET_RE), False)
    any_offset = bool(pc.any(has_offset).as_py())
    all_offset = bool(pc.all(pc.or_(has_offset, pc.is_null(column))).as_py())
    aware = pa.timestamp("us", "UTC")
    if all_offset:
        parsed = pc.cast(column, aware)
    elif not any_offset:
        parsed = pc.assume_timezone(pc.cast(column, pa.timestamp("us")), timezone=tz or "UTC")
    else:
        with_zone = pc.cast(pc.if_else(has_offset, column, pa.scalar(None, pa.string())), aware)
        naive = pc.if_else(has_offset, pa.scalar(None, pa.string()), column)
        without = pc.assume_timezone(pc.cast(naive, pa.timestamp("us")), timezone=tz or "UTC")
        parsed = pc.if_else(has_offset, with_zone, pc.cast(without, aware))
    if tz is None:  # naive: the UTC wall time of each instant
        return pc.cast(pc.cast(parsed, pa.int64()), pa.timestamp("us"))
    return parsed if tz == "UTC" else pc.cast(parsed, pa.timestamp("us", tz))


def _to_time(column: pa.Array, target: pa.DataType, name: str) -> pa.Array:
    if pa.types.is_null(column.type):
        return pa.nulls(len(column), target)
    if _is_text(column.type):
        stamped = pc.binary_join_element_wise("1970-01-01 ", _as_text(column), "")
        return pc.cast(_parse_timestamps(stamped, None), target)
    if pa.types.is_timestamp(column.type):
        return pc.cast(column, target, safe=False)
    return pc.cast(column, target)


def _to_json(column: pa.Array, target: pa.DataType, name: str) -> pa.Array:
    return _json_column(column, lambda _: True, "JSON")


def _to_list(column: pa.Array, target: pa.DataType, name: str) -> pa.Array:
    return _json_column(column, lambda v: isinstance(v, list), "a JSON array")


def _json_column(column: pa.Array, accept: Callable[[Any], bool], what: str) -> pa.Array:
    """Valid JSON text, kept as the source wrote it (numbers stay exact)."""
    if pa.types.is_null(column.type):
        return pa.nulls(len(column), pa.string())
    if not _is_text(column.type):
        if pa.types.is_list(column.type) or pa.types.is_large_list(column.type):
            return _json_of_values(column)
        if _is_nested(column.type):
            result = _json_of_values(column)
            _check_json(result, accept, what)
            return result
        return _json_scalars(column, accept, what)
    result = _as_text(column)
    _check_json(result, accept, what)
    return result


def _json_scalars(column: pa.Array, accept: Callable[[Any], bool], what: str) -> pa.Array:
    result = text(column)
    _check_json(result, accept, what)
    return result


def _check_json(column: pa.Array, accept: Callable[[Any], bool], what: str) -> None:
    for value in column.to_pylist():
        if value is None:
            continue
        try:
            parsed = orjson.loads(value)
        except orjson.JSONDecodeError:
            parsed = json.loads(value)  # integers beyond 64 bits; raises for invalid text
        if not accept(parsed):
            raise ValueError(f"not {what}")


def _json_of_values(column: pa.Array) -> pa.Array:
    """Lists and structs as JSON text (datetimes ISO 8601, decimals as numbers' text)."""
    return pa.array([None if v is None else _dumps(v) for v in column.to_pylist()], pa.string())


def _dumps(value: Any) -> str:
    return orjson.dumps(value, default=_default, option=orjson.OPT_NON_STR_KEYS).decode()


def _default(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def _check_timestamp_range(column: pa.Array) -> None:
    if column.null_count == len(column):
        return
    bounds = pc.min_max(column.cast(pa.int64()))
    low, high = bounds["min"].as_py(), bounds["max"].as_py()
    if low < _MIN_US or high > _MAX_US:
        raise ValueError("a timestamp outside the years 1-9999")


CASTS: Final[dict[FieldType, Cast]] = {
    FieldType.STRING: _to_string,
    FieldType.INTEGER: _to_integer,
    FieldType.NUMBER: _to_number,
    FieldType.DECIMAL: _to_decimal,
    FieldType.BOOLEAN: _to_boolean,
    FieldType.DATE: _to_date,
    FieldType.DATETIME: _to_timestamp,
    FieldType.TIME: _to_time,
    FieldType.JSON: _to_json,
    FieldType.LIST: _to_list,
}
