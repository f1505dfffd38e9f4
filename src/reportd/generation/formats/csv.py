"""CSV: RFC 4180, a header row of field names, ``\\n`` line endings, UTF-8.

Fields are quoted only where needed: a string holding a quote, comma or line break, and the
empty string (quoted so it stays distinct from NULL, which is an empty field), as DuckDB does.
In a one-column file NULL is written ``""`` too, since a blank line would be skipped.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from reportd.domain.formats import Format
from reportd.generation.formats.render import has_empty_string, plain, string_data, text
from reportd.generation.formats.text import TextWriter, suffix

_STRUCTURAL = (b'"', b",", b"\n", b"\r")


class CsvWriter(TextWriter):
    format = Format.CSV

    def header(self) -> bytes:
        names = [quote_if_needed(name) for name in self.schema.names]
        return (",".join(names) + "\n").encode()

    def render(self, batch: pa.RecordBatch) -> pa.Array:
        columns = [csv_column(column) for column in batch.columns]
        if not columns:
            return pa.array(["\n"] * batch.num_rows, pa.string())
        if len(columns) == 1:
            # A lone empty field would be a blank line, which most readers skip: the row
            # would be lost. Python's csv module writes "" there too.
            columns[0] = pc.fill_null(columns[0], '""')
        columns[-1] = suffix(columns[-1], "\n")
        return pc.binary_join_element_wise(
            *columns, ",", null_handling="replace", null_replacement=""
        )


def csv_column(column: pa.Array) -> pa.Array:
    """The CSV field text of each value; nulls stay null (rendered as empty fields)."""
    column = plain(column)
    if not pa.types.is_string(column.type):
        return text(column)  # canonical texts of other types never need quoting
    if not _may_need_quotes(column):
        return column
    needs = pc.or_(
        pc.match_substring_regex(column, '[",\\r\\n]'),
        pc.equal(pc.binary_length(column), 0),
    )
    quoted = pc.binary_join_element_wise('"', pc.replace_substring(column, '"', '""'), '"', "")
    return pc.if_else(needs, quoted, column)


def _may_need_quotes(column: pa.Array) -> bool:
    """A fast whole-buffer check, so the common case skips the per-row regex."""
    data = string_data(column).to_pybytes()
    return any(char in data for char in _STRUCTURAL) or has_empty_string(column)


def quote_if_needed(value: str) -> str:
    """One value quoted by the same rule as the columns (used for the header)."""
    if value == "" or any(char in value for char in '",\r\n'):
        return '"' + value.replace('"', '""') + '"'
    return value
