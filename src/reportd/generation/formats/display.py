"""A template's display formats drawn: text for the PDF (and a formatted CSV), Excel codes.

One ``DisplayFormat`` gives both renderings, so the PDF's ``€1,234.50`` and the XLSX cell's
``"€"#,##0.00`` agree. Numbers round half away from zero on their shortest decimal text, as
Excel shows them (``2.675`` -> ``2.68``, where Python's binary rounding says ``2.67``); the
minus sign comes first (``-€5.00``). Datetimes are shown in the field's zone, else the
template's ``display.timezone``, else as stored; naive datetimes are read as UTC (reportd
stores instants in UTC, see docs/templates.md).

Text rendering is per value in Python: the PDF draws at most ``row_cap`` rows anyway, and a
formatted CSV is an opt-in that trades speed for looks (see docs/performance.md).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import date, datetime, time
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.compute as pc

from reportd.domain.display import DateToken, Display, DisplayFormat, DisplayKind, TotalKind
from reportd.generation.formats.render import text

_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")  # fmt: skip
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_EXCEL_LETTERS = {
    "yyyy": "yyyy",
    "yy": "yy",
    "MMMM": "mmmm",
    "MMM": "mmm",
    "MM": "mm",
    "M": "m",
    "dd": "dd",
    "d": "d",
    "EEEE": "dddd",
    "EEE": "ddd",
    "HH": "hh",
    "H": "h",
    "hh": "hh",
    "h": "h",
    "mm": "mm",
    "m": "m",
    "ss": "ss",
    "s": "s",
    "a": "AM/PM",
}


class ColumnDisplay:
    """How one column is shown: its text (``texts``), Excel code and alignment."""

    def __init__(self, fmt: DisplayFormat | None, display: Display, arrow_type: pa.DataType):
        self.format = fmt
        self.display = display
        self.arrow_type = arrow_type
        zone = fmt.timezone if fmt is not None and fmt.timezone else display.timezone
        self.zone = zone if pa.types.is_timestamp(arrow_type) else None
        self._value = _value_renderer(fmt, display) if fmt is not None else None

    @property
    def changes_text(self) -> bool:
        """Whether this column's text differs from the canonical text at all."""
        return self._value is not None or self.zone is not None

    @property
    def numeric(self) -> bool:
        return self.format is not None and self.format.kind.is_numeric

    def texts(self, column: pa.Array) -> pa.Array:
        """Each value as shown, a string array keeping nulls."""
        if self.zone is not None:
            column = in_zone(column, self.zone)
        if self._value is None:
            return text(column)
        render = self._value
        return pa.array([None if v is None else render(v) for v in column.to_pylist()], pa.string())

    def value_text(self, value: Any) -> str:
        """One Python value as shown (used for totals)."""
        if value is None:
            return ""
        if self.zone is not None and isinstance(value, datetime):
            value = _as_utc(value).astimezone(ZoneInfo(self.zone))
        if self._value is None:
            return str(text(pa.array([value], self.arrow_type))[0].as_py())
        return self._value(value)

    def tick_text(self, value: float) -> str:
        """An axis tick in this column's number format, without decimals when whole or past
        100 (``$0``, ``$2.50``, ``$2,000,000``)."""
        fmt = self.format
        if fmt is None or not fmt.kind.is_numeric:
            return f"{value:g}"
        scaled = float(value) * (100 if fmt.kind is DisplayKind.PERCENT else 1)
        plain = abs(scaled) >= 100 or scaled.is_integer()
        shown = dataclasses.replace(fmt, decimals=0) if plain else fmt
        return number_text(value, shown, self.display)

    def excel_code(self) -> str | None:
        return None if self.format is None else excel_format(self.format)

    def total_text(self, kind: TotalKind, value: Any) -> str:
        """A total as shown under its column: ``avg 12.50``, ``count 1,204``, ``1,234.50``."""
        return f"{kind.label} {self.total_value(kind, value)}".strip()

    def total_value(self, kind: TotalKind, value: Any) -> str:
        """A total's value as shown, without its kind (``—`` when no row had a value)."""
        if value is None:
            return "—"
        if kind is TotalKind.COUNT:
            return grouped(Decimal(value), 0, True, self.display)
        if kind is TotalKind.AVG and self._value is None:
            return grouped(Decimal(repr(float(value))), 2, True, self.display)
        return self.value_text(value)


def column_displays(schema: pa.Schema, display: Display) -> list[ColumnDisplay]:
    return [ColumnDisplay(display.of(f.name), display, f.type) for f in schema]


def in_zone(column: pa.Array, zone: str) -> pa.Array:
    """A timestamp column as instants in ``zone`` (naive values are UTC)."""
    if column.type.tz is None:
        column = pc.assume_timezone(column, "UTC")
    return column.cast(pa.timestamp(column.type.unit, zone))


def _as_utc(value: datetime) -> datetime:
    from datetime import UTC

    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


# --- numbers -------------------------------------------------------------------------------


def _value_renderer(fmt: DisplayFormat, display: Display) -> Callable[[Any], str]:
    if fmt.kind.is_numeric:
        return lambda value: number_text(value, fmt, display)
    return date_renderer(fmt.tokens)


def number_text(value: Any, fmt: DisplayFormat, display: Display) -> str:
    """``1234.5`` as ``€1,234.50`` (per ``fmt``), with the template's marks."""
    number = _decimal(value)
    if number is None:
        return str(value)
    if fmt.kind is DisplayKind.PERCENT:
        number *= 100
    body = grouped(abs(number), fmt.decimals, fmt.grouping, display)
    negative = number < 0 and body.strip("0.,'\u00a0\u202f ") != ""
    suffix = fmt.suffix + ("%" if fmt.kind is DisplayKind.PERCENT else "")
    return f"{'-' if negative else ''}{fmt.prefix}{body}{suffix}"


def grouped(number: Decimal, decimals: int, grouping: bool, display: Display) -> str:
    """Rounded half away from zero to ``decimals``, with the display's marks."""
    rounded = number.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    body = format(rounded, f"{',' if grouping else ''}.{decimals}f")
    if (display.decimal_mark, display.thousands_mark) == (".", ","):
        return body
    return body.translate({ord(","): "\x00", ord("."): display.decimal_mark}).replace(
        "\x00", display.thousands_mark
    )


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if isinstance(value, int):
        return Decimal(value)
    try:
        # float(): numpy's floats (matplotlib's ticks) repr as "np.float64(...)".
        number = Decimal(repr(float(value)) if isinstance(value, float) else str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


# --- dates ---------------------------------------------------------------------------------


def date_renderer(tokens: tuple[DateToken, ...]) -> Callable[[Any], str]:
    parts = [_part(token) for token in tokens]

    def render(value: Any) -> str:
        if not isinstance(value, date):
            return str(value)
        return "".join(part(value) for part in parts)

    return render


def _part(token: DateToken) -> Callable[[Any], str]:
    if token.literal:
        return lambda _: token.letters
    letters = token.letters
    if letters[0] in "yMdE":
        return _date_part(letters)
    if letters in ("HH", "H"):
        return lambda v: _pad(_time(v).hour, letters)
    if letters in ("hh", "h"):
        return lambda v: _pad(_time(v).hour % 12 or 12, letters)
    if letters in ("mm", "m"):
        return lambda v: _pad(_time(v).minute, letters)
    if letters in ("ss", "s"):
        return lambda v: _pad(_time(v).second, letters)
    return lambda v: "AM" if _time(v).hour < 12 else "PM"  # "a"


def _date_part(letters: str) -> Callable[[Any], str]:
    if letters == "yyyy":
        return lambda v: f"{v.year:04d}"
    if letters == "yy":
        return lambda v: f"{v.year % 100:02d}"
    if letters == "MMMM":
        return lambda v: _MONTHS[v.month - 1]
    if letters == "MMM":
        return lambda v: _MONTHS[v.month - 1][:3]
    if letters in ("MM", "M"):
        return lambda v: _pad(v.month, letters)
    if letters in ("dd", "d"):
        return lambda v: _pad(v.day, letters)
    if letters == "EEEE":
        return lambda v: _DAYS[v.weekday()]
    return lambda v: _DAYS[v.weekday()][:3]  # EEE


def _time(value: date) -> time:
    return value.time() if isinstance(value, datetime) else time()


def _pad(number: int, letters: str) -> str:
    return f"{number:02d}" if len(letters) == 2 else str(number)


# --- Excel ---------------------------------------------------------------------------------


def excel_format(fmt: DisplayFormat) -> str:
    """The Excel number format code showing what ``number_text``/``date_renderer`` show."""
    if not fmt.kind.is_numeric:
        return "".join(
            _excel_literal(t.letters) if t.literal else _EXCEL_LETTERS[t.letters]
            for t in fmt.tokens
        )
    digits = "#,##0" if fmt.grouping else "0"
    if fmt.decimals:
        digits += "." + "0" * fmt.decimals
    if fmt.kind is DisplayKind.PERCENT:
        digits += "%"
    return _excel_literal(fmt.prefix) + digits + _excel_literal(fmt.suffix)


def _excel_literal(value: str) -> str:
    if not value:
        return ""
    return '"' + value.replace('"', "") + '"'
