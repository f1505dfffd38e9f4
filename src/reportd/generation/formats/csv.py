"""CSV: RFC 4180, a header row of field names, ``\\n`` line endings, UTF-8.

A template's ``csv:`` may ask for a UTF-8 BOM (so Excel reads UTF-8) and another delimiter
(``;`` for European Excel, tab, ``|``); quoting then follows that delimiter. With
``formatted: true`` the fields with a display format (and datetimes, when the template has a
display time zone) are written as the PDF shows them (``€1,234.50``), not as raw values.

Fields are quoted only where needed: a string holding a quote, comma or line break, and the
empty string (quoted so it stays distinct from NULL, which is an empty field), as DuckDB does.
In a one-column file NULL is written ``""`` too, since a blank line would be skipped.
"""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from reportd.domain.formats import Format
from reportd.generation.formats.base import WriteContext
from reportd.generation.formats.display import ColumnDisplay, column_displays
from reportd.generation.formats.render import has_empty_string, plain, string_data, text
from reportd.generation.formats.text import TextWriter, suffix

BOM = b"\xef\xbb\xbf"


class CsvWriter(TextWriter):
    format = Format.CSV

    def __init__(self, path: Path, schema: pa.Schema, context: WriteContext) -> None:
        self.layout = context.template.csv
        self.shown: list[ColumnDisplay | None] = [None] * len(schema)
        if self.layout.formatted:
            self.shown = [
                d if d.changes_text else None
                for d in column_displays(schema, context.template.display)
            ]
        super().__init__(path, schema, context)

    def header(self) -> bytes:
        sep = self.layout.delimiter
        names = [quote_if_needed(name, sep) for name in self.schema.names]
        return (BOM if self.layout.bom else b"") + (sep.join(names) + "\n").encode()

    def render(self, batch: pa.RecordBatch) -> pa.Array:
        sep = self.layout.delimiter
        columns = [
            csv_column(column if shown is None else shown.texts(column), sep)
            for column, shown in zip(batch.columns, self.shown, strict=True)
        ]
        if not columns:
            return pa.array(["\n"] * batch.num_rows, pa.string())
        if len(columns) == 1:
            # A lone empty field would be a blank line, which most readers skip: the row
            # would be lost. Python's csv module writes "" there too.
            columns[0] = pc.fill_null(columns[0], '""')
        columns[-1] = suffix(columns[-1], "\n")
        return pc.binary_join_element_wise(
            *columns, sep, null_handling="replace", null_replacement=""
        )


def csv_column(column: pa.Array, sep: str = ",") -> pa.Array:
    """The CSV field text of each value; nulls stay null (rendered as empty fields)."""
    column = plain(column)
    if not pa.types.is_string(column.type):
        column = text(column)  # canonical texts hold no quote or line break; maybe the sep
        if sep == "," or not _may_need_quotes(column, sep):
            return column
    if not _may_need_quotes(column, sep):
        return column
    needs = pc.or_(
        pc.match_substring_regex(column, f'["{re.escape(sep)}\\r\\n]'),
        pc.equal(pc.binary_length(column), 0),
    )
    quoted = pc.binary_join_element_wise('"', pc.replace_substring(column, '"', '""'), '"', "")
    return pc.if_else(needs, quoted, column)


def _may_need_quotes(column: pa.Array, sep: str) -> bool:
    """A fast whole-buffer check, so the common case skips the per-row regex."""
    data = string_data(column).to_pybytes()
    structural = (b'"', sep.encode(), b"\n", b"\r")
    return any(char in data for char in structural) or has_empty_string(column)


def quote_if_needed(value: str, sep: str = ",") -> str:
    """One value quoted by the same rule as the columns (used for the header)."""
    if value == "" or any(char in value for char in f'"{sep}\r\n'):
        return '"' + value.replace('"', '""') + '"'
    return value
