"""A template's fields as the filter sees them: names resolved, values coerced to their type.

A literal that does not fit its field's type is refused with the reason (``MismatchError``);
the caller adds the field and the position.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Final, TypeAlias

from reportd.domain.filters.nodes import Scalar
from reportd.domain.filters.tokens import NUMBER_RE, number_from_text
from reportd.domain.formats import FieldType
from reportd.domain.models import Field

Bound: TypeAlias = str | int | float | bool | date | datetime

_INT64_MIN: Final = -(2**63)
_INT64_MAX: Final = 2**63 - 1


def resolve_field(fields: Mapping[str, Field], name: str) -> Field | None:
    """Exact name first; else a unique case-insensitive match, as SCIM attribute names are."""
    if name in fields:
        return fields[name]
    folded = name.casefold()
    matches = [f for key, f in fields.items() if key.casefold() == folded]
    return matches[0] if len(matches) == 1 else None


class MismatchError(Exception):
    """A value does not fit a field type; the caller adds field and position."""


_INTEGER_TEXT_RE: Final = re.compile(r"[+-]?[0-9]{1,19}")


def _to_string(value: Scalar) -> Bound:
    if isinstance(value, str):
        return value
    raise MismatchError("expected a double-quoted string")


def _to_integer(value: Scalar) -> Bound:
    if isinstance(value, str) and _INTEGER_TEXT_RE.fullmatch(value):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise MismatchError("expected a whole number")
    if not _INT64_MIN <= value <= _INT64_MAX:
        raise MismatchError("out of range")
    return value


def _to_number(value: Scalar) -> Bound:
    if isinstance(value, str) and NUMBER_RE.fullmatch(value):
        value = number_from_text(value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise MismatchError("expected a number")
    if isinstance(value, int):
        if _INT64_MIN <= value <= _INT64_MAX:
            return value
        value = float(value)  # float() of a >4300-digit int cannot happen: those arrive as floats
    if not math.isfinite(value):
        raise MismatchError("out of range")
    return value


def _to_boolean(value: Scalar) -> Bound:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"  # PingOne sends booleans as strings: (mfaEnabled eq "true")
    raise MismatchError("expected true or false")


def _to_date(value: Scalar) -> Bound:
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise MismatchError('expected a date such as "2024-01-31"')


def _to_datetime(value: Scalar) -> Bound:
    if isinstance(value, str):
        text = value[:-1] + "+00:00" if value[-1:] in ("Z", "z") else value
        try:
            return datetime.fromisoformat(text)
        except ValueError:
            pass
    raise MismatchError('expected a date-time such as "2024-01-31T12:00:00Z"')


COERCERS: Final[dict[FieldType, Callable[[Scalar], Bound]]] = {
    FieldType.STRING: _to_string,
    FieldType.INTEGER: _to_integer,
    FieldType.NUMBER: _to_number,
    FieldType.BOOLEAN: _to_boolean,
    FieldType.DATE: _to_date,
    FieldType.DATETIME: _to_datetime,
    FieldType.DECIMAL: _to_number,
    FieldType.TIME: _to_string,
    FieldType.JSON: _to_string,  # never reached: the loader refuses filterable json/list
    FieldType.LIST: _to_string,
}
