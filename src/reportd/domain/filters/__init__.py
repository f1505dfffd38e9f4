"""The filter and sort language: text in, parameterised SQL out.

One grammar serves the native API and the PingOne dialect (SCIM-like, case-insensitive words)::

    filter     := or_expr
    or_expr    := and_expr ("or" and_expr)*
    and_expr   := unary ("and" unary)*
    unary      := "not" unary | "(" or_expr ")" | comparison
    comparison := FIELD "pr" | FIELD "in" list | FIELD op value
    list       := "(" value ("," value)* ")" | "[" value ("," value)* "]"
    op         := eq | ne | gt | ge | lt | le | co | sw | ew
    value      := STRING | NUMBER | true | false | null

One module per stage: ``tokens`` (text to tokens) and ``parser`` (tokens to the AST of
``nodes``), ``fields`` (names resolved and values coerced against a template's fields),
``compiler`` (AST to SQL), ``evaluate`` (the same AST applied to rows in Python), ``order``
(``order_by``) and ``text`` (the AST printed back).
docs/filters.md describes the language for its users.
"""

from __future__ import annotations

from reportd.domain.filters.compiler import (
    SqlFragment,
    compile_expr,
    compile_filter,
    quote_identifier,
)
from reportd.domain.filters.evaluate import Row, compile_predicate
from reportd.domain.filters.fields import Bound
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
    Scalar,
)
from reportd.domain.filters.order import parse_order_by
from reportd.domain.filters.parser import MAX_DEPTH, MAX_FILTER_LENGTH, parse_filter
from reportd.domain.filters.text import format_filter, format_literal

__all__ = [
    "MAX_DEPTH",
    "MAX_FILTER_LENGTH",
    "And",
    "Bound",
    "Comparison",
    "Expr",
    "InList",
    "Literal",
    "Not",
    "Op",
    "Or",
    "Present",
    "Row",
    "Scalar",
    "SqlFragment",
    "compile_expr",
    "compile_filter",
    "compile_predicate",
    "format_filter",
    "format_literal",
    "parse_filter",
    "parse_order_by",
    "quote_identifier",
]
