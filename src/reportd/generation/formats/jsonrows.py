"""JSON objects for a batch's rows, built column by column.

Each column becomes its values' JSON text, and one row-wise join puts them between the
literal keys and punctuation: no Python object per value ever exists. Strings are escaped
with a few whole-column replacements, and only when a quick scan of the column's bytes finds
something to escape.
"""

from __future__ import annotations

import orjson
import pyarrow as pa
import pyarrow.compute as pc

from reportd.domain.formats import FieldType
from reportd.generation.formats.render import is_quoted_in_json, plain, string_data, text
from reportd.generation.formats.schema import field_type

_RAW_TYPES = frozenset({FieldType.JSON, FieldType.LIST})

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
    pieces: list[str | pa.Array] = []
    for i, (key, column) in enumerate(zip(keys, batch.columns, strict=True)):
        pieces.append((prefix + "{" if i == 0 else ",") + key + ":")
        if field_type(batch.schema.field(i)) in _RAW_TYPES:
            pieces.append(_raw_json(column))
        else:
            pieces.extend(_value_pieces(column))
    pieces.append("}" + suffix)
    return _join(pieces)


def _value_pieces(column: pa.Array) -> list[str | pa.Array]:
    """The JSON of each value, as text columns and literals to join; never null."""
    column = plain(column)
    value = text(column)
    if not is_quoted_in_json(column.type):
        return [pc.fill_null(value, "null") if value.null_count else value]
    if pa.types.is_string(column.type):
        value = json_escape(value)
    if value.null_count:
        return [pc.fill_null(pc.binary_join_element_wise('"', value, '"', ""), "null")]
    return ['"', value, '"']


def _raw_json(column: pa.Array) -> pa.Array:
    """JSON text (checked valid by the cast) inlined as it is, on one line.

    A raw line break or tab in valid JSON can only be whitespace between tokens, so it
    becomes a space; U+2028/2029 can only be inside strings, where their escape means the same.
    """
    data = string_data(column).to_pybytes()
    for char in ("\n", "\r"):
        if char.encode() in data:
            column = pc.replace_substring(column, char, " ")
    for char, escape in _LINE_SEPARATORS.items():
        if char.encode() in data:
            column = pc.replace_substring(column, char, escape)
    return pc.fill_null(column, "null") if column.null_count else column


def _join(pieces: list[str | pa.Array]) -> pa.Array:
    """Row-wise concatenation; adjacent literals merged, as every argument costs a pass."""
    merged: list[str | pa.Array] = []
    for piece in pieces:
        if isinstance(piece, str) and merged and isinstance(merged[-1], str):
            merged[-1] += piece
        else:
            merged.append(piece)
    return pc.binary_join_element_wise(*merged, "")


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
