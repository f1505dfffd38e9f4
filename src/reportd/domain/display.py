"""How a template asks its values to be shown to people: display formats and totals.

A display format changes how a value *looks* in the formats people read (the PDF's text, the
XLSX's number format, the CSV when the template asks), never the value itself: CSV, JSON,
NDJSON and Parquet keep the canonical values unless a template opts its CSV in.

The vocabulary is small on purpose, so that every entry has one exact Excel number format and
one Python rendering that agree:

- ``number``: thousands separators and a fixed number of decimals, or a pattern in Excel's
  notation restricted to ``[prefix]#,##0[.00][%][suffix]`` (prefix/suffix plain text);
- ``currency``: a number with a symbol (or ISO code) before or after it;
- ``percent``: a fraction shown times 100 with ``%`` (0.125 -> 12.5%);
- ``date`` / ``datetime``: a pattern in the LDML letters most tools share (``yyyy MM dd HH mm
  ss``, ``MMM`` for Jan, ``EEE`` for Mon, ``'...'`` for literal text), and for datetimes a
  display time zone.

Parsing lives here (pure, checked when a template loads); drawing it lives with the writers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from reportd.domain.errors import ValidationError


class DisplayKind(StrEnum):
    NUMBER = "number"
    CURRENCY = "currency"
    PERCENT = "percent"
    DATE = "date"
    DATETIME = "datetime"

    @property
    def is_numeric(self) -> bool:
        return self in (DisplayKind.NUMBER, DisplayKind.CURRENCY, DisplayKind.PERCENT)


class TotalKind(StrEnum):
    SUM = "sum"
    AVG = "avg"
    COUNT = "count"
    MIN = "min"
    MAX = "max"

    @property
    def label(self) -> str:
        """The word shown before a total that is not a plain sum (``avg 12.50``)."""
        return "" if self is TotalKind.SUM else self.value


MAX_DECIMALS = 10

# Symbols of the currencies people most often report in; others show their ISO code.
CURRENCY_SYMBOLS: Mapping[str, str] = {
    "EUR": "€",
    "USD": "$",
    "GBP": "£",
    "JPY": "¥",
    "CNY": "¥",
    "KRW": "₩",
    "INR": "₹",
    "ILS": "₪",
    "RUB": "₽",
    "TRY": "₺",
    "BRL": "R$",
}
# ISO 4217 minor units that are not 2.
CURRENCY_DECIMALS: Mapping[str, int] = {"JPY": 0, "KRW": 0, "ISK": 0, "CLP": 0, "KWD": 3}


@dataclass(frozen=True, slots=True)
class DateToken:
    """One piece of a date pattern: an LDML letter run (``yyyy``) or literal text."""

    letters: str
    literal: bool = False


@dataclass(frozen=True, slots=True)
class DisplayFormat:
    """How one field is shown. Numbers use ``decimals``/``grouping``/``prefix``/``suffix``;
    dates and datetimes use ``tokens`` (parsed from ``pattern``) and ``timezone``."""

    kind: DisplayKind
    decimals: int = 0
    grouping: bool = True
    prefix: str = ""
    suffix: str = ""
    pattern: str = ""
    tokens: tuple[DateToken, ...] = ()
    timezone: str | None = None


@dataclass(frozen=True, slots=True)
class Display:
    """A template's display settings: formats per field, the zone datetimes are shown in, and
    the marks numbers are written with in text (Excel uses the reader's own locale)."""

    formats: Mapping[str, DisplayFormat] = field(default_factory=dict)
    timezone: str | None = None
    decimal_mark: str = "."
    thousands_mark: str = ","

    def of(self, name: str) -> DisplayFormat | None:
        return self.formats.get(name)


# --- numbers -------------------------------------------------------------------------------

# Prefix and suffix are plain text: no digits, and none of Excel's section (;), condition
# ([...]) or quoting characters, which would mean something else to Excel.
_NUMBER_PATTERN = re.compile(
    r'^(?P<prefix>[^#0-9;"\[\]%]*)(?P<int>[#,]*0)(?:\.(?P<dec>0+))?(?P<pct>%?)'
    r'(?P<suffix>[^#0-9;"\[\]%]*)$'
)


def number_pattern(pattern: str, where: str) -> DisplayFormat:
    """``#,##0.00``, ``0%``, ``€#,##0``, ``#,##0.0 kg`` as a number format, or a clear error."""
    found = _NUMBER_PATTERN.match(pattern)
    if not found:
        raise ValidationError(
            f"{where}: number pattern {pattern!r} is not of the form "
            "[prefix]#,##0[.00][%][suffix] (e.g. '#,##0.00', '0.0%', '€#,##0')"
        )
    kind = DisplayKind.PERCENT if found["pct"] else DisplayKind.NUMBER
    return DisplayFormat(
        kind=kind,
        decimals=len(found["dec"] or ""),
        grouping="," in found["int"],
        prefix=_unquote(found["prefix"]),
        suffix=_unquote(found["suffix"]),
    )


def _unquote(text: str) -> str:
    return text.replace('"', "")


def currency(code: str, where: str, *, symbol: str | None, after: bool) -> tuple[str, str, int]:
    """Prefix, suffix and default decimals of a currency by its ISO 4217 code."""
    if not re.fullmatch(r"[A-Z]{3}", code):
        raise ValidationError(f"{where}: currency must be an ISO 4217 code like EUR, got {code!r}")
    shown = symbol if symbol is not None else CURRENCY_SYMBOLS.get(code, code)
    decimals = CURRENCY_DECIMALS.get(code, 2)
    spaced = len(shown) > 1 and shown.isalpha()  # "CHF 12.00", but "€12.00"
    if after:
        return "", f" {shown}", decimals
    return (f"{shown} " if spaced else shown), "", decimals


def decimals_value(raw: object, where: str) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int) or not 0 <= raw <= MAX_DECIMALS:
        raise ValidationError(f"{where}: decimals must be an integer from 0 to {MAX_DECIMALS}")
    return raw


# --- dates ---------------------------------------------------------------------------------

# The LDML letter runs understood, each with a meaning both Python and Excel can show.
DATE_LETTERS = frozenset(
    {"yyyy", "yy", "MMMM", "MMM", "MM", "M", "dd", "d", "EEEE", "EEE"}
    | {"HH", "H", "hh", "h", "mm", "m", "ss", "s", "a"}
)
_TIME_LETTERS = frozenset({"HH", "H", "hh", "h", "mm", "m", "ss", "s", "a"})


def date_pattern(pattern: str, where: str, *, with_time: bool) -> tuple[DateToken, ...]:
    """The pattern's tokens; an unknown letter run (``YYYY``, ``DD``) is an error naming it."""
    if not isinstance(pattern, str) or not pattern:
        raise ValidationError(f"{where}: a date pattern must be a non-empty string")
    if pattern.count("'") % 2:
        raise ValidationError(f"{where}: unbalanced quote in date pattern {pattern!r}")
    tokens: list[DateToken] = []
    for run in re.finditer(r"'([^']*)'|([A-Za-z])\2*|[^A-Za-z']+", pattern):
        if run[1] is not None:
            tokens.append(DateToken(run[1] or "'", literal=True))
        elif run[2] is not None:
            letters = run[0]
            if letters not in DATE_LETTERS:
                known = "yyyy yy MMMM MMM MM M dd d EEEE EEE HH H hh h mm m ss s a"
                raise ValidationError(
                    f"{where}: {letters!r} in date pattern {pattern!r} is not one of: {known} "
                    "(put other letters in single quotes)"
                )
            if letters in _TIME_LETTERS and not with_time:
                raise ValidationError(f"{where}: {letters!r} is a time letter; a date has none")
            tokens.append(DateToken(letters))
        else:
            tokens.append(DateToken(run[0], literal=True))
    _check_minutes(tokens, pattern, where)
    used = {t.letters for t in tokens if not t.literal}
    if "a" in used and used & {"HH", "H"}:
        raise ValidationError(
            f"{where}: 'a' (AM/PM) goes with 12-hour hh or h, not HH in {pattern!r}"
        )
    return tuple(tokens)


def _check_minutes(tokens: list[DateToken], pattern: str, where: str) -> None:
    """Excel reads ``mm`` as minutes only right after an hour or before seconds, else as the
    month: refuse patterns whose minutes or months Excel would read the other way."""
    letters = [t.letters for t in tokens if not t.literal]
    for index, run in enumerate(letters):
        before = letters[index - 1] if index else ""
        after = letters[index + 1] if index + 1 < len(letters) else ""
        as_minutes = before.lower().startswith("h") or after.startswith("s")
        if run in ("mm", "m") and not as_minutes:
            raise ValidationError(
                f"{where}: minutes {run!r} in {pattern!r} must follow an hour or come before "
                "seconds (Excel would show the month)"
            )
        if run in ("MM", "M") and as_minutes:
            raise ValidationError(
                f"{where}: month {run!r} in {pattern!r} must not sit between an hour and "
                "seconds (Excel would show minutes)"
            )
