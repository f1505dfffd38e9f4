"""JSON objects for a batch's rows, built column by column.

Each column becomes a fragment per row (``,"key":value``), and the fragments are joined
row-wise: no Python object per value ever exists. Strings are escaped with a few whole-column
replacements, and only when a quick scan of the column's bytes finds something to escape.
"""

from __future__ import annotations

import orjson
import pyarrow as pa
import pyarrow.compute as pc

from reportd.formats.render import is_quoted_in_json, string_data, text

# RFC 8259 escapes; the other control characters take the \\u00XX form.
_SHORT_ESCAPES = {0x08: "\\b", 0x09: "\\t", 0x0A: "\\n", 0x0C: "\\f", 0x0D: "\\r"}
_CONTROL_ESCAPES = {chr(code): _SHORT_ESCAPES.get(code, f"\\u{code:04x}") for code in range(0x20)}

# Valid raw in JSON, but line breaks to JavaScript and to Python's str.splitlines: escaped so
# that no NDJSON reader ever splits a row.
_LINE_SEPARATORS = {"\u2028": "\\u2028", "\u2029": "\\u2029"}


def json_key(name: str) -> str:
    """A field name as a JSON object key, escaped."""
    return orjson.dumps(name).decode()


def json_rows(batch: pa.RecordBatch, keys: list[str], prefix: str, suffix: str) -> pa.Array:
    """One JSON object per row: ``prefix{"k":v,...}suffix``; ``keys`` from ``json_key``."""
    if not keys:
        return pa.array([prefix + "{}" + suffix] * batch.num_rows, pa.string())
    fragments = [
        _fragment(column, (prefix + "{" if i == 0 else ",") + key + ":")
        for i, (key, column) in enumerate(zip(keys, batch.columns, strict=True))
    ]
    return pc.binary_join_element_wise(*fragments, "}" + suffix, "")


def _fragment(column: pa.Array, lead: str) -> pa.Array:
    """``lead`` followed by each value's JSON; never null."""
    value = text(column)
    if not is_quoted_in_json(column.type):
        return pc.binary_join_element_wise(
            lead, value, "", null_handling="replace", null_replacement="null"
        )
    if pa.types.is_string(column.type):
        value = json_escape(value)
    fragment = pc.binary_join_element_wise(lead + '"', value, '"', "")
    if fragment.null_count:
        fragment = pc.fill_null(fragment, lead + "null")
    return fragment


def json_escape(column: pa.Array) -> pa.Array:
    """String contents escaped for JSON (without the surrounding quotes)."""
    data = string_data(column)
    raw = data.to_pybytes()
    if b"\\" in raw:
        column = pc.replace_substring(column, "\\", "\\\\")
    if b'"' in raw:
        column = pc.replace_substring(column, '"', '\\"')
    if _has_control_byte(data):
        for char, escape in _CONTROL_ESCAPES.items():
            if char.encode() in raw:
                column = pc.replace_substring(column, char, escape)
    for char, escape in _LINE_SEPARATORS.items():
        if char.encode() in raw:
            column = pc.replace_substring(column, char, escape)
    return column


def _has_control_byte(data: pa.Buffer) -> bool:
    if data.size == 0:
        return False
    as_bytes = pa.Array.from_buffers(pa.uint8(), data.size, [None, data])
    return bool(pc.min(as_bytes).as_py() < 0x20)
