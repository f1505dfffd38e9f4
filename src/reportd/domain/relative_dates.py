"""Relative dates in report options: ``today``, ``today-7d``, ``start_of_month``, ...

A weekly schedule that should cover "the last seven days" cannot name a fixed date; it names
an expression, and each firing turns it into the date of that day, in the schedule's time
zone. Grammar (case-insensitive, no spaces)::

    expr   := anchor [("+" | "-") N unit]
    anchor := today | yesterday | tomorrow
            | start_of_week | start_of_month | start_of_quarter | start_of_year
            | end_of_week | end_of_month | end_of_quarter | end_of_year
    unit   := d | w | m | y          (days, weeks, months, years)

Weeks start on Monday (ISO 8601). Adding months keeps the day where it can and otherwise
takes the month's last day (``2024-01-31`` + 1m = ``2024-02-29``).
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

_EXPR = re.compile(
    r"^(today|yesterday|tomorrow|(?:start|end)_of_(?:week|month|quarter|year))"
    r"(?:([+-])(\d{1,4})([dwmy]))?$",
    re.IGNORECASE,
)


def is_relative(value: object) -> bool:
    return isinstance(value, str) and _EXPR.match(value.strip()) is not None


def resolve(value: str, today: date) -> date:
    """The date ``value`` names on ``today``; ``ValueError`` when it is not an expression."""
    found = _EXPR.match(value.strip())
    if found is None:
        raise ValueError(f"{value!r} is not a relative date")
    anchor, sign, count, unit = found.groups()
    day = _anchor(anchor.lower(), today)
    if sign:
        amount = int(count) * (-1 if sign == "-" else 1)
        day = _shift(day, amount, unit.lower())
    return day


def _anchor(name: str, today: date) -> date:
    if name in ("today", "yesterday", "tomorrow"):
        return today + timedelta(days={"today": 0, "yesterday": -1, "tomorrow": 1}[name])
    edge, _, period = name.partition("_of_")
    start = _period_start(period, today)
    if edge == "start":
        return start
    following = {
        "week": start + timedelta(days=7),
        "month": _add_months(start, 1),
        "quarter": _add_months(start, 3),
        "year": _add_months(start, 12),
    }[period]
    return following - timedelta(days=1)


def _period_start(period: str, today: date) -> date:
    if period == "week":
        return today - timedelta(days=today.weekday())
    if period == "month":
        return today.replace(day=1)
    if period == "quarter":
        return date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    return date(today.year, 1, 1)


def _shift(day: date, amount: int, unit: str) -> date:
    if unit == "d":
        return day + timedelta(days=amount)
    if unit == "w":
        return day + timedelta(weeks=amount)
    return _add_months(day, amount * (12 if unit == "y" else 1))


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def evaluate(schema: Mapping[str, Any], options: Mapping[str, Any], today: date) -> dict[str, Any]:
    """``options`` with each relative date, in a ``format: date`` property, as ``YYYY-MM-DD``.

    Only properties the options schema declares as dates are read as expressions, so a
    string option that happens to say ``today`` stays what it is.
    """
    properties = schema.get("properties") or {}
    evaluated = dict(options)
    for name, value in options.items():
        spec = properties.get(name)
        if isinstance(spec, Mapping) and spec.get("format") == "date" and is_relative(value):
            evaluated[name] = resolve(value, today).isoformat()
    return evaluated
