"""Relative dates: what each expression names on a given day."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reportd.domain.relative_dates import is_relative, resolve

WED = date(2024, 5, 15)  # a Wednesday in Q2 of a leap year


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("today", WED),
        ("yesterday", date(2024, 5, 14)),
        ("tomorrow", date(2024, 5, 16)),
        ("today-7d", date(2024, 5, 8)),
        ("today+2w", date(2024, 5, 29)),
        ("start_of_week", date(2024, 5, 13)),
        ("end_of_week", date(2024, 5, 19)),
        ("start_of_month", date(2024, 5, 1)),
        ("end_of_month", date(2024, 5, 31)),
        ("start_of_month-1m", date(2024, 4, 1)),
        ("start_of_quarter", date(2024, 4, 1)),
        ("end_of_quarter", date(2024, 6, 30)),
        ("start_of_year", date(2024, 1, 1)),
        ("end_of_year", date(2024, 12, 31)),
        ("TODAY-1Y", date(2023, 5, 15)),
    ],
)
def test_each_expression(expr: str, expected: date) -> None:
    assert is_relative(expr)
    assert resolve(expr, WED) == expected


def test_months_keep_the_day_or_take_the_last() -> None:
    assert resolve("today+1m", date(2024, 1, 31)) == date(2024, 2, 29)
    assert resolve("today-1y", date(2024, 2, 29)) == date(2023, 2, 28)


@pytest.mark.parametrize("text", ["2024-01-01", "today -7d", "today-7", "now", "", "today-7h"])
def test_other_strings_are_not_expressions(text: str) -> None:
    assert not is_relative(text)
    with pytest.raises(ValueError, match="relative"):
        resolve(text, WED)


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2900, 12, 31)))
def test_periods_contain_the_day(day: date) -> None:
    for period in ("week", "month", "quarter", "year"):
        assert resolve(f"start_of_{period}", day) <= day <= resolve(f"end_of_{period}", day)
