"""XLSX cells: what each cell of a report's sheet holds, and why.

- integers and floats are numbers, booleans booleans, NULL (and NaN/inf, as in every format)
  an empty cell; strings are strings, never formulas;
- dates and datetimes are Excel dates with a ``yyyy-mm-dd`` / ``yyyy-mm-dd hh:mm:ss`` format;
  Excel has no time zones, so a zoned datetime holds its wall time in its own zone (the CSV's
  text without the offset); Excel keeps milliseconds, not microseconds;
- what Excel cannot hold typed is written as the canonical text the CSV has, so no value
  changes silently: integers beyond +/-2**53 (a double cannot hold them exactly) and dates
  before 1900-03-01 (outside Excel's calendar, whose 1900 has a 29 February);
- strings are cut at Excel's 32,767 characters per cell, and a cut cell ends with a note
  saying so (``CUT_MARK``);
- a template's display formats become the cells' Excel number formats (``display.py``): the
  values stay numbers and dates, only their look changes; a display time zone moves the
  datetimes' wall time into that zone. Formatted dates go in as Excel serial numbers, since
  the typed table path gives date columns its own date format.

Apart from the workbook (``xlsx``) because these rules are about values, not sheets: each is
a pure function of Arrow arrays, tested alone.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from reportd.domain.display import TotalKind
from reportd.generation.formats.display import ColumnDisplay, in_zone
from reportd.generation.formats.render import finite_or_null, plain, text
from reportd.generation.formats.totals import Total

MAX_CELL_CHARS = 32_767
# What ends a cell cut at Excel's limit, so a reader sees the text goes on (in the CSV).
CUT_MARK = " … [cut at 32,767 characters: the full text is in the CSV and JSON]"
# Integers a double holds exactly; beyond them Excel would show a different number.
MAX_EXACT_INT = 2**53
# Excel's serial dates count a 29 February 1900 that never was; earlier dates are text.
FIRST_DATE = date(1900, 3, 1)
FIRST_DATETIME = datetime(1900, 3, 1)
# Clean rows between text-needing ones shorter than this go cell by cell (measured break-even).
MIN_TABLE_ROWS = 16
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
# Excel's serial day of 1970-01-01 (its day 0 is 1899-12-30), to write dates as numbers.
EPOCH_SERIAL = 25_569.0
_US_PER_DAY = 86_400_000_000.0


def total_cell(total: Total, shown: ColumnDisplay) -> Any:
    """A total as an Excel cell value: a number, or a date/datetime at its display wall time."""
    value = total.value
    if isinstance(value, datetime):
        if shown.zone is not None:
            value = in_zone(pa.array([value]), shown.zone)
            value = pc.local_timestamp(value)[0].as_py()
        elif value.tzinfo is not None:
            value = value.replace(tzinfo=None)
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, time):
        return value.isoformat()  # Excel's times are fractions of a day: the CSV's text
    return value


def default_code(arrow_type: pa.DataType, total: Total) -> str:
    """A total's number format when its column has no display format."""
    if pa.types.is_timestamp(arrow_type):
        return DATETIME_FORMAT
    if pa.types.is_date(arrow_type):
        return DATE_FORMAT
    if total.kind is TotalKind.AVG:
        return "#,##0.00"
    return "General"


def excel_serial(column: pa.Array) -> pa.Array:
    """Dates and naive datetimes as Excel serial day numbers (what an Excel date is)."""
    if pa.types.is_date(column.type):
        days = pc.cast(pc.cast(column, pa.int32()), pa.float64())
    else:
        micros = pc.cast(pc.cast(column, pa.timestamp("us")), pa.int64())
        days = pc.divide(pc.cast(micros, pa.float64()), _US_PER_DAY)
    return pc.add(days, EPOCH_SERIAL)


def table_runs(masks: Sequence[pa.Array | None], rows: int) -> Iterator[tuple[int, int, bool]]:
    """Runs of rows ``(offset, length, as_table)`` covering a batch in order.

    A table column has one type, so rows holding a value Excel needs as text (``masks``, see
    the module docstring) are written cell by cell, and so are short clean runs between them
    (a table for a handful of rows costs more than its cells). Usually: one table.
    """
    flagged = [mask for mask in masks if mask is not None]
    if not flagged:
        yield 0, rows, True
        return
    runs = pc.run_end_encode(functools.reduce(pc.or_, flagged))
    start = 0
    for end, dirty in zip(runs.run_ends.to_pylist(), runs.values.to_pylist(), strict=True):
        yield start, end - start, not dirty and end - start >= MIN_TABLE_ROWS
        start = end


def cell_values(original: pa.Array, typed: pa.Array, mask: pa.Array | None) -> list[Any]:
    """One column's Python values for cell-by-cell writing, text where ``mask`` says so."""
    values: list[Any] = typed.to_pylist()
    if mask is None or not pc.any(mask).as_py():
        return values
    texts = text(original).to_pylist()
    return [t if f else v for v, t, f in zip(values, texts, mask.to_pylist(), strict=True)]


def mask_slice(mask: pa.Array | None, start: int, length: int) -> pa.Array | None:
    """The part of a ``excel_cells`` mask for a run of rows (None stays None)."""
    return None if mask is None else mask.slice(start, length)


def arrow_table(columns: list[pa.Array]) -> pa.Table:
    """Typed columns as the table ``write_dataframe`` takes (the names are not written)."""
    return pa.Table.from_arrays(columns, names=[f"c{i}" for i in range(len(columns))])


def excel_cells(column: pa.Array) -> tuple[pa.Array, pa.Array | None]:
    """The column as Excel cells, and where it holds values Excel cannot (None: nowhere)."""
    column = plain(column)
    arrow_type = column.type
    if pa.types.is_timestamp(arrow_type):
        return _datetimes(column)
    if pa.types.is_date(arrow_type):
        return column, _flags(pc.less(column, pa.scalar(FIRST_DATE, arrow_type)))
    if pa.types.is_integer(arrow_type):
        return column, _inexact_integers(column)
    if pa.types.is_floating(arrow_type):
        return finite_or_null(column), None
    if pa.types.is_string(arrow_type):
        return _strings(column), None
    if pa.types.is_boolean(arrow_type):
        return column, None
    return text(column), None


def _datetimes(column: pa.Array) -> tuple[pa.Array, pa.Array | None]:
    if column.type.tz is not None:
        column = pc.local_timestamp(column)  # the wall time the CSV shows, without its offset
    if column.type.unit != "us":
        column = column.cast(pa.timestamp("us"))
    return column, _flags(pc.less(column, pa.scalar(FIRST_DATETIME, column.type)))


def _inexact_integers(column: pa.Array) -> pa.Array | None:
    if column.type.bit_width <= 32:
        return None
    high = pc.greater(column, pa.scalar(MAX_EXACT_INT, column.type))
    if pa.types.is_unsigned_integer(column.type):
        return _flags(high)
    return _flags(pc.or_(high, pc.less(column, pa.scalar(-MAX_EXACT_INT, column.type))))


def _strings(column: pa.Array) -> pa.Array:
    """Strings as cells; one over Excel's limit is cut and says so at its end, never silently."""
    lengths = pc.utf8_length(column)
    longest = pc.max(lengths).as_py()
    if longest is None or longest <= MAX_CELL_CHARS:
        return column
    too_long = pc.greater(lengths, MAX_CELL_CHARS)
    head = pc.utf8_slice_codeunits(column, 0, MAX_CELL_CHARS - len(CUT_MARK))
    cut = pc.binary_join_element_wise(head, CUT_MARK, "")
    return pc.if_else(too_long, cut, column)


def _flags(mask: pa.Array) -> pa.Array | None:
    """``mask`` with NULL as false, or None when nothing is flagged (the usual case)."""
    mask = pc.fill_null(mask, False)
    return mask if pc.any(mask).as_py() else None
