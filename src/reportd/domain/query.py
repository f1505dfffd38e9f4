"""The report's final SQL: the template query as a subquery, projected, filtered and ordered.

Why a subquery instead of editing the template: the template is the operator's SQL in the
source's own dialect. Treated as opaque, it only needs our outer ``SELECT ... WHERE ... ORDER BY``
on its declared field names, which DuckDB, SQLite and PostgreSQL all accept alike.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Final

from reportd.domain.errors import ValidationError
from reportd.domain.filters import SqlFragment, compile_filter, parse_order_by, quote_identifier
from reportd.domain.models import Field

__all__ = ["build_report_query", "strip_statement"]

# One piece of SQL, just enough to tell code from strings and comments (order matters).
_SQL_TOKEN_RE: Final = re.compile(
    r"""
      --[^\n]*                                   # line comment
    | /\*.*?(?:\*/|\Z)                           # block comment
    | [eE]'(?:[^'\\]|\\.|'')*'?                  # PostgreSQL E'...' string (backslash escapes)
    | '(?:[^']|'')*'?                            # string literal, '' doubles a quote
    | "(?:[^"]|"")*"?                            # quoted identifier
    | \$(?P<tag>(?:[A-Za-z_]\w*)?)\$.*?(?:\$(?P=tag)\$|\Z)   # PostgreSQL dollar quoting
    | \s+
    | ;
    | \w+
    | .
    """,
    re.VERBOSE | re.DOTALL,
)
_RESERVED_PARAM_RE: Final = re.compile(r"(?<![:\w]):_f\d")


def _is_trivia(piece: str) -> bool:
    return piece.isspace() or piece.startswith(("--", "/*"))


def strip_statement(sql: str) -> str:
    """The template query without trailing semicolons, comments and whitespace.

    Why: the query is pasted inside ``( ... )``; a trailing ``;`` would be a syntax error there
    and a trailing ``-- comment`` would swallow the closing parenthesis. A ``;`` followed by more
    SQL means several statements, which cannot be wrapped: that is refused.
    """
    end = 0
    semicolon: int | None = None
    for match in _SQL_TOKEN_RE.finditer(sql):
        piece = match.group()
        if _is_trivia(piece):
            continue
        if piece == ";":
            semicolon = match.start() if semicolon is None else semicolon
            continue
        if semicolon is not None:
            raise ValidationError(
                "the template query must be a single statement: "
                f"found more SQL after the ';' at position {semicolon}"
            )
        end = match.end()
    if end == 0:
        raise ValidationError("the template query is empty")
    return sql[:end]


def _select_list(columns: Sequence[str], fields: Mapping[str, Field]) -> str:
    if not columns:
        raise ValidationError("a report needs at least one column")
    seen: set[str] = set()
    for name in columns:
        if name not in fields:
            known = ", ".join(fields) or "none"
            raise ValidationError(f"unknown column '{name}' (fields: {known})")
        if name in seen:
            raise ValidationError(f"column '{name}' is selected more than once")
        seen.add(name)
    return ", ".join(quote_identifier(fields[name].name) for name in columns)


def _order_clause(order_by: Sequence[str], fields: Mapping[str, Field]) -> str:
    order = parse_order_by(order_by, fields)
    terms = [
        f"{quote_identifier(name)} DESC" if desc else quote_identifier(name) for name, desc in order
    ]
    return f" ORDER BY {', '.join(terms)}" if terms else ""


def build_report_query(
    template_query: str,
    columns: Sequence[str],
    fields: Mapping[str, Field],
    filter_text: str | None,
    order_by: Sequence[str],
) -> SqlFragment:
    """``SELECT "a", "b" FROM (<template>) AS _report WHERE <filter> ORDER BY "x" DESC, "y"``.

    The params are the filter's (``_f0``, ``_f1``, ...); the template's own parameters (such as
    ``:tenant_id``) are left for the caller to bind, so the ``_f`` prefix is reserved.
    Raises ValidationError for bad columns or template, FilterSyntaxError for the filter/order.
    """
    body = strip_statement(template_query)
    select = _select_list(columns, fields)
    where = compile_filter(filter_text or "", fields)
    if where.params and _RESERVED_PARAM_RE.search(body):
        raise ValidationError("the template query uses ':_f<N>' parameters, which are reserved")
    sql = f"SELECT {select} FROM (\n{body}\n) AS _report"
    if where.sql:
        sql += f" WHERE {where.sql}"
    sql += _order_clause(order_by, fields)
    return SqlFragment(sql, dict(where.params))
