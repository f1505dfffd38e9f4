"""DigiCert's column filters <-> reportd's filter language.

A report's ``filters`` (``in``, ``not_in``, ``custom_date`` with two dates, all of which must hold)
become one filter-language expression on the saved definition; ``column_filters`` reads them back
from it for the report details, so an edit can send back what it read.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from pydantic import BaseModel, Field

from reportd.domain.filters import And, Comparison, Expr, InList, Literal, Not, Op, format_filter
from reportd.domain.models import Field as TemplateField
from reportd.entrypoints.api.dialects.digicert_schedule import invalid


class ColumnFilter(BaseModel):
    filter_identifier: str = Field(min_length=1)
    column_identifier: str = Field(min_length=1)
    values: list[str | int | float | bool]


def filter_of(filters: Sequence[ColumnFilter]) -> str | None:
    """DigiCert column filters, all of which must hold, as one filter-language expression."""
    if not filters:
        return None
    parts = [_filter_expr(f) for f in filters]
    return format_filter(parts[0] if len(parts) == 1 else And(tuple(parts)))


def _filter_expr(item: ColumnFilter) -> Expr:
    kind = item.filter_identifier.lower()
    column, values = item.column_identifier, [Literal(v) for v in item.values]
    if not values:
        raise invalid(f"the {column!r} filter has no values", "filters")
    if kind in ("in", "not_in"):
        listed = InList(column, tuple(values))
        return listed if kind == "in" else Not(listed)
    if kind == "custom_date" and len(values) == 2:
        return And((_bound(column, Op.GE, values[0].value), _end(column, values[1].value)))
    raise invalid(
        f"filter_identifier {item.filter_identifier!r} is not supported "
        "(in, not_in, custom_date with two dates)",
        "filters",
    )


def _bound(column: str, op: Op, value: Any) -> Expr:
    return Comparison(column, op, Literal(value))


def _end(column: str, value: Any) -> Expr:
    """A custom date range includes its whole last day."""
    try:
        last = date.fromisoformat(str(value))
    except ValueError:
        return _bound(column, Op.LE, value)
    return _bound(column, Op.LT, (last + timedelta(days=1)).isoformat())


def column_filters(text: str | None) -> list[dict[str, Any]]:
    """The column filters ``filter_of`` turned into the filter language, turned back."""
    if not text:
        return []
    from reportd.domain.filters import parse_filter

    parts = _conjuncts(parse_filter(text))
    found: list[dict[str, Any]] = []
    index = 0
    while index < len(parts):
        part = parts[index]
        nxt = parts[index + 1] if index + 1 < len(parts) else None
        if isinstance(part, InList):
            found.append(_listed("in", part))
        elif isinstance(part, Not) and isinstance(part.operand, InList):
            found.append(_listed("not_in", part.operand))
        elif isinstance(part, Comparison) and isinstance(nxt, Comparison):
            found.append(_date_range(part, nxt))
            index += 1
        index += 1
    return found


def _conjuncts(expr: Expr) -> tuple[Expr, ...]:
    if isinstance(expr, And):
        return tuple(p for operand in expr.operands for p in _conjuncts(operand))
    return (expr,)


def _listed(kind: str, listed: InList) -> dict[str, Any]:
    return {
        "filter_identifier": kind,
        "column_identifier": listed.field,
        "values": [v.value for v in listed.values],
    }


def _date_range(start: Comparison, end: Comparison) -> dict[str, Any]:
    last = str(end.value.value)
    with contextlib.suppress(ValueError):  # the range's end was the day after the last one
        last = (date.fromisoformat(last) - timedelta(days=1)).isoformat()
    return {
        "filter_identifier": "custom_date",
        "column_identifier": start.field,
        "values": [start.value.value, last],
    }


def filter_kinds(field: TemplateField) -> list[str]:
    """The filters a column takes, as List columns names them."""
    if field.type.value in ("date", "datetime"):
        return ["custom_date", "in", "not_in"]
    return ["in", "not_in"]
