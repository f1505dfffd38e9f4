"""Canonical text: an AST or a value printed back as filter text that parses to the same AST."""

from __future__ import annotations

import math
from typing import Final, assert_never

from reportd.domain.filters.nodes import And, Comparison, Expr, InList, Not, Or, Present, Scalar

_ESCAPE_OUT: Final = {
    '"': '\\"',
    "\\": "\\\\",
    "\n": "\\n",
    "\t": "\\t",
    "\r": "\\r",
    "\b": "\\b",
    "\f": "\\f",
}


def _quote(text: str) -> str:
    out = [_ESCAPE_OUT.get(c) or (f"\\u{ord(c):04x}" if ord(c) < 0x20 else c) for c in text]
    return '"' + "".join(out) + '"'


def format_literal(value: Scalar, *, limit: int | None = None) -> str:
    """A value as filter text; ``limit`` shortens long strings for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value!r} cannot be written in the filter language")
        return repr(value)
    if limit is not None and len(value) > limit:
        return _quote(value[: limit - 3] + "...")
    return _quote(value)


def _wrapped(expr: Expr, kinds: tuple[type, ...]) -> str:
    text = format_filter(expr)
    return f"({text})" if isinstance(expr, kinds) else text


def format_filter(expr: Expr) -> str:
    """The canonical text of an expression, such that ``parse_filter(format_filter(e)) == e``.

    Why: the service can store a normalised filter, and the tests generate ASTs and print them.
    """
    match expr:
        case Or(operands):
            return " or ".join(_wrapped(o, (Or,)) for o in operands)
        case And(operands):
            return " and ".join(_wrapped(o, (Or, And)) for o in operands)
        case Not(operand):
            return f"not ({format_filter(operand)})"
        case Present(field):
            return f"{field} pr"
        case InList(field, values):
            return f"{field} in ({', '.join(format_literal(v.value) for v in values)})"
        case Comparison(field, op, value):
            return f"{field} {op.value} {format_literal(value.value)}"
        case _:
            assert_never(expr)
