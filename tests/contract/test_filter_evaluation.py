"""The in-memory store filters with ``compile_predicate``: it must keep exactly the rows the
compiled SQL keeps. Random filters over random rows, against SQLite (with the metadata
database's case-sensitive LIKE), reusing the generators of tests/unit/test_filters.py.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from reportd.domain.errors import FilterSyntaxError
from reportd.domain.filters import (
    Expr,
    compile_filter,
    compile_predicate,
    format_filter,
    parse_filter,
)
from tests.unit.test_filters import (
    _DB_FIELDS,
    _DB_SPEC,
    _ROWS,
    _evaluate,
    _expressions,
    _leaves,
    _query,
)


@given(_expressions(_leaves(_DB_SPEC)), _ROWS)
@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow], deadline=None)
def test_python_keeps_the_rows_sql_keeps(expr: Expr, rows: list[dict[str, Any]]) -> None:
    keep = compile_predicate(expr, _DB_FIELDS)
    kept = [k for k, row in enumerate(rows) if keep(row)]
    assert kept == _query(rows, compile_filter(format_filter(expr), _DB_FIELDS))
    assert kept == [k for k, row in enumerate(rows) if _evaluate(expr, row) is True]


def test_what_the_compiler_refuses_the_evaluator_refuses_alike() -> None:
    for text in ("nope eq 1", 'i co "x"', "b gt true", "s gt null"):
        with pytest.raises(FilterSyntaxError) as compiled:
            compile_filter(text, _DB_FIELDS)
        with pytest.raises(FilterSyntaxError) as evaluated:
            compile_predicate(parse_filter(text), _DB_FIELDS, expression=text)
        assert str(evaluated.value) == str(compiled.value)
        assert evaluated.value.position == compiled.value.position  # type: ignore[attr-defined]
