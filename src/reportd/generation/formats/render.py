"""One text rendering per type, shared by every text format, done columnar.

Rendering a value at a time in Python is ten times slower than the engines reportd is
measured against, so every rule here is a handful of Arrow compute passes over a column:

- timestamps: ISO 8601 with ``T``; fractional seconds only when non-zero (six digits, as
  Python's ``isoformat``); ``Z`` for UTC zones, ``+hh:mm`` for other zones, nothing for naive;
- dates: ``YYYY-MM-DD``; times: ``HH:MM:SS`` with fractional seconds only when non-zero;
- decimals: every digit of their scale (``1.50``), never an exponent;
- floats: shortest round-trip text (``0.1``, ``1e+20``, ``1`` for 1.0); NaN and infinities
  have no JSON form and render as null everywhere;
- booleans: ``true`` / ``false``; integers: decimal digits.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

_UTC_ZONES = frozenset({"UTC", "Etc/UTC", "Etc/UCT", "UCT", "Z", "Zulu", "Etc/Zulu", "+00:00"})


def plain(column: pa.Array) -> pa.Array:
    """Dictionary-encoded and large/view strings as plain ``string`` arrays.

    Writers are fed conformed batches, but this keeps a stray ENUM or large string from
    slipping past the string-only rules (CSV quoting, JSON escaping) untouched.
    """
    if pa.types.is_dictionary(column.type):
        column = column.dictionary_decode()
    if pa.types.is_large_string(column.type) or pa.types.is_string_view(column.type):
        column = column.cast(pa.string())
    return column


def text(column: pa.Array) -> pa.Array:
    """The canonical text of each value of ``column``, as a string array keeping nulls."""
    column = plain(column)
    arrow_type = column.type
    if pa.types.is_timestamp(arrow_type):
        return timestamp_text(column)
    if pa.types.is_time(arrow_type):
        rendered = pc.cast(pc.cast(column, pa.time64("us")), pa.string())
        return pc.replace_substring_regex(rendered, r"\.000000$", "")
    if pa.types.is_floating(arrow_type):
        return pc.cast(finite_or_null(column), pa.string())
    if pa.types.is_string(arrow_type):
        return column
    return pc.cast(column, pa.string())


def is_quoted_in_json(arrow_type: pa.DataType) -> bool:
    """Whether the JSON form of this type is a string (else a bare number/boolean)."""
    return not (
        pa.types.is_integer(arrow_type)
        or pa.types.is_floating(arrow_type)
        or pa.types.is_boolean(arrow_type)
        or pa.types.is_null(arrow_type)
    )


def finite_or_null(column: pa.Array) -> pa.Array:
    """NaN and +/-inf as null: one rule for every format, since JSON cannot carry them."""
    finite = pc.is_finite(column)
    if pc.all(finite).as_py() is not False:
        return column
    return pc.if_else(finite, column, pa.scalar(None, column.type))


def timestamp_text(column: pa.Array) -> pa.Array:
    """ISO 8601 text of a timestamp column (see the module docstring)."""
    tz = column.type.tz
    if tz in _UTC_ZONES:
        tz = "UTC"  # Arrow prints a trailing "Z" for exactly this zone name
    if column.type.unit != "us" or tz != column.type.tz:
        column = pc.cast(column, pa.timestamp("us", tz), safe=False)
    seconds = pc.cast(column, pa.timestamp("s", tz), safe=False)
    if pc.all(pc.equal(pc.cast(seconds, column.type), column)).as_py() is not False:
        # Whole seconds throughout (the usual case): printing them is twice as fast.
        rendered = pc.cast(seconds, pa.string())
    else:
        rendered = pc.cast(column, pa.string())
        rendered = pc.replace_substring(rendered, ".000000", "", max_replacements=1)
    # Years are 0001-9999 (``schema.conform`` refuses others), so the space is at 10.
    rendered = pc.binary_replace_slice(rendered, 10, 11, "T")
    if tz is not None and tz != "UTC":
        rendered = pc.binary_replace_slice(rendered, -2, -2, ":")  # +0100 -> +01:00
    return rendered


def string_data(column: pa.Array) -> pa.Buffer:
    """The bytes of a string array's values, exactly (no bytes of a parent array)."""
    buffers = column.buffers()
    data = buffers[2]
    if data is None or len(column) == 0:
        return pa.py_buffer(b"")
    offsets = memoryview(buffers[1]).cast("i")
    start = offsets[column.offset]
    end = offsets[column.offset + len(column)]
    return data.slice(start, end - start)


def has_empty_string(column: pa.Array) -> bool:
    """Whether any non-null value is the empty string."""
    return bool(pc.any(pc.equal(pc.binary_length(column), 0)).as_py())
