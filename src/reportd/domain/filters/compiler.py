"""The compiler: an AST checked against a template's fields, out as parameterised SQL.

SQL is built only from fixed keywords and the template's own (quoted) field names; every value
the client typed is coerced to the field's type and bound as a ``:_fN`` parameter, so no input
text ever reaches the SQL. Comparisons follow SQL three-valued logic: a NULL column matches
neither ``eq`` nor ``ne`` nor ``not (...)``; ``pr`` and ``eq null`` test for NULL.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, assert_never

from reportd.domain.errors import FilterSyntaxError, ValidationError
from reportd.domain.filters.fields import COERCERS, Bound, MismatchError, resolve_field
from reportd.domain.filters.nodes import (
    LIKE_OPS,
    ORDERING_OPS,
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
from reportd.domain.filters.parser import parse_filter
from reportd.domain.filters.text import format_literal
from reportd.domain.formats import FieldType
from reportd.domain.models import Field

_SQL_OPS: Final = {Op.EQ: "=", Op.NE: "<>", Op.GT: ">", Op.GE: ">=", Op.LT: "<", Op.LE: "<="}


@dataclass(frozen=True, slots=True)
class SqlFragment:
    """A piece of SQL with its bound values, in SQLAlchemy ``text()`` (``:name``) style."""

    sql: str
    params: dict[str, object]


def quote_identifier(name: str) -> str:
    """Double-quote a column name for DuckDB, SQLite and PostgreSQL.

    Identifiers cannot be bound as parameters, so this is the one door through which a name
    enters SQL text: embedded quotes are doubled, and control characters and ':' are refused
    (SQLAlchemy ``text()`` would read ':name' even inside quotes as a bind parameter).
    """
    if not name or len(name) > 128 or any(ord(c) < 0x20 or c in "\x7f:" for c in name):
        raise ValidationError(f"invalid column name {name!r}")
    return '"' + name.replace('"', '""') + '"'


def _like_pattern(op: Op, value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    if op is Op.SW:
        return f"{escaped}%"
    if op is Op.EW:
        return f"%{escaped}"
    return f"%{escaped}%"


def _show(value: Scalar) -> str:
    if isinstance(value, float) and not math.isfinite(value):
        return "this number"  # a literal such as 1e999 overflowed while tokenizing
    return format_literal(value, limit=40)


class _Compiler:
    """Walks the AST, checking each field against the template and binding each value."""

    def __init__(self, fields: Mapping[str, Field], prefix: str, expression: str) -> None:
        self._fields = fields
        self._prefix = prefix
        self._expression = expression
        self.params: dict[str, object] = {}

    def compile(self, expr: Expr) -> str:
        match expr:
            case And(operands):
                return "(" + " AND ".join(self.compile(o) for o in operands) + ")"
            case Or(operands):
                return "(" + " OR ".join(self.compile(o) for o in operands) + ")"
            case Not(operand):
                return f"NOT ({self.compile(operand)})"
            case Present():
                return (
                    f"{quote_identifier(self._field(expr.field, expr.position).name)} IS NOT NULL"
                )
            case InList():
                return self._in_list(expr)
            case Comparison():
                return self._comparison(expr)
            case _:
                assert_never(expr)

    def _error(self, message: str, position: int) -> FilterSyntaxError:
        return FilterSyntaxError(message, position=position, expression=self._expression)

    def _field(self, name: str, position: int) -> Field:
        field = resolve_field(self._fields, name)
        if field is not None and field.filterable:
            return field
        allowed = ", ".join(sorted(k for k, f in self._fields.items() if f.filterable)) or "none"
        problem = "unknown field" if field is None else "field is not filterable:"
        raise self._error(f"{problem} '{name}' (filterable fields: {allowed})", position)

    def _coerce(self, field: Field, literal: Literal) -> Bound:
        try:
            return COERCERS[field.type](literal.value)
        except MismatchError as exc:
            raise self._error(
                f"{_show(literal.value)} is not a valid {field.type.value} "
                f"for field '{field.name}': {exc}",
                literal.position,
            ) from exc

    def _bind(self, value: Bound) -> str:
        name = f"{self._prefix}{len(self.params)}"
        self.params[name] = value
        return f":{name}"

    def _check_operator(self, field: Field, node: Comparison) -> None:
        if node.op in LIKE_OPS and field.type is not FieldType.STRING:
            raise self._error(
                f"operator '{node.op.value}' applies to string fields only; "
                f"'{field.name}' is {field.type.value}",
                node.op_position,
            )
        if node.op in ORDERING_OPS and field.type is FieldType.BOOLEAN:
            raise self._error(
                f"operator '{node.op.value}' does not apply to boolean field '{field.name}'",
                node.op_position,
            )
        if node.value.value is None and node.op not in (Op.EQ, Op.NE):
            raise self._error("null can only be compared with 'eq' or 'ne'", node.value.position)

    def _comparison(self, node: Comparison) -> str:
        field = self._field(node.field, node.position)
        self._check_operator(field, node)
        column = quote_identifier(field.name)
        if node.value.value is None:
            return f"{column} IS NULL" if node.op is Op.EQ else f"{column} IS NOT NULL"
        value = self._coerce(field, node.value)
        if node.op in LIKE_OPS:
            pattern = self._bind(_like_pattern(node.op, str(value)))
            return f"{column} LIKE {pattern} ESCAPE '\\'"
        return f"{column} {_SQL_OPS[node.op]} {self._bind(value)}"

    def _in_list(self, node: InList) -> str:
        field = self._field(node.field, node.position)
        if not node.values:
            raise self._error("the 'in' list is empty", node.op_position)
        for literal in node.values:
            if literal.value is None:
                raise self._error(
                    "null is not allowed in an 'in' list; use 'eq null'", literal.position
                )
        names = [self._bind(self._coerce(field, literal)) for literal in node.values]
        return f"{quote_identifier(field.name)} IN ({', '.join(names)})"


_PREFIX_RE: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def compile_expr(
    expr: Expr, fields: Mapping[str, Field], *, param_prefix: str = "_f", expression: str = ""
) -> SqlFragment:
    """Compile a parsed (or programmatically built) expression; ``expression`` goes into errors."""
    if not _PREFIX_RE.fullmatch(param_prefix):
        raise ValueError(f"invalid parameter prefix {param_prefix!r}")
    compiler = _Compiler(fields, param_prefix, expression)
    sql = compiler.compile(expr)
    return SqlFragment(sql, compiler.params)


def compile_filter(
    text: str, fields: Mapping[str, Field], *, param_prefix: str = "_f"
) -> SqlFragment:
    """Compile filter text against a template's fields; blank text gives ``SqlFragment("", {})``.

    Raises FilterSyntaxError (position, expression) for syntax errors, unknown or unfilterable
    fields, operators that do not fit the field type, and values that do not fit it.
    """
    if not text.strip():
        return SqlFragment("", {})
    return compile_expr(parse_filter(text), fields, param_prefix=param_prefix, expression=text)
