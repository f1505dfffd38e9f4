"""The evaluator: an AST applied to rows in Python, with the SQL compiler's meaning.

Why: the in-memory store (``reportd.testing``) must filter reports the way the SQL stores do,
and tests check it against the compiled SQL. ``compile_predicate`` first runs the compiler's
checks (same errors, same positions), then applies the same rules: values coerced to the
field's type, SQL three-valued logic (a NULL column matches neither ``eq`` nor ``ne`` nor
``not (...)``), ``co``/``sw``/``ew`` case-sensitive, a naive date-time read as UTC (as the
metadata database stores it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, TypeAlias, assert_never

from reportd.domain.filters.compiler import compile_expr
from reportd.domain.filters.fields import COERCERS, resolve_field
from reportd.domain.filters.nodes import (
    And,
    Comparison,
    Expr,
    InList,
    Literal,
    Not,
    Op,
    Or,
    Present,
)
from reportd.domain.models import Field

__all__ = ["Row", "compile_predicate"]

Row: TypeAlias = Mapping[str, object]  # field name -> value (None: SQL NULL)
_Test: TypeAlias = Callable[[Row], bool | None]  # None: "unknown"

_CHECKS: dict[Op, Callable[[Any, Any], bool]] = {
    Op.EQ: lambda a, b: a == b,
    Op.NE: lambda a, b: a != b,
    Op.GT: lambda a, b: a > b,
    Op.GE: lambda a, b: a >= b,
    Op.LT: lambda a, b: a < b,
    Op.LE: lambda a, b: a <= b,
    Op.CO: lambda a, b: b in a,
    Op.SW: lambda a, b: a.startswith(b),
    Op.EW: lambda a, b: a.endswith(b),
}


def compile_predicate(
    expr: Expr, fields: Mapping[str, Field], *, expression: str = ""
) -> Callable[[Row], bool]:
    """A test of one row: True where the compiled SQL's WHERE would keep it.

    Raises what ``compile_expr`` raises for the same expression and fields.
    """
    compile_expr(expr, fields, expression=expression)
    test = _build(expr, fields)
    return lambda row: test(row) is True


def _build(expr: Expr, fields: Mapping[str, Field]) -> _Test:
    match expr:
        case And(operands):
            tests = [_build(o, fields) for o in operands]
            return lambda row: _all([t(row) for t in tests])
        case Or(operands):
            tests = [_build(o, fields) for o in operands]
            return lambda row: _any([t(row) for t in tests])
        case Not(operand):
            inner = _build(operand, fields)
            return lambda row: _not(inner(row))
        case Present():
            name = _name(fields, expr.field)
            return lambda row: row.get(name) is not None
        case InList():
            return _in_list(_field(fields, expr.field), expr.values)
        case Comparison():
            return _comparison(_field(fields, expr.field), expr.op, expr.value)
        case _:
            assert_never(expr)


def _field(fields: Mapping[str, Field], name: str) -> Field:
    field = resolve_field(fields, name)
    assert field is not None  # compile_expr has checked every name
    return field


def _name(fields: Mapping[str, Field], name: str) -> str:
    return _field(fields, name).name


def _comparison(field: Field, op: Op, literal: Literal) -> _Test:
    name = field.name
    if literal.value is None:  # `eq null` is IS NULL, `ne null` IS NOT NULL: never unknown
        return lambda row: (row.get(name) is None) == (op is Op.EQ)
    wanted = _comparable(COERCERS[field.type](literal.value))
    check = _CHECKS[op]

    def test(row: Row) -> bool | None:
        value = row.get(name)
        return None if value is None else check(_comparable(value), wanted)

    return test


def _in_list(field: Field, values: Sequence[Literal]) -> _Test:
    name = field.name
    wanted = [_comparable(COERCERS[field.type](v.value)) for v in values]

    def test(row: Row) -> bool | None:
        value = row.get(name)
        return None if value is None else _comparable(value) in wanted

    return test


def _comparable(value: object) -> object:
    """Date-times compare as instants; a naive one is UTC, as the metadata database keeps it."""
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _not(value: bool | None) -> bool | None:
    return None if value is None else not value


def _all(values: Sequence[bool | None]) -> bool | None:
    return False if False in values else None if None in values else True


def _any(values: Sequence[bool | None]) -> bool | None:
    return True if True in values else None if None in values else False
