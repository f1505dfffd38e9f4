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

The parser is hand-written so that every error carries the exact 0-based character position.
The compiler builds SQL only from fixed keywords and the template's own (quoted) field names;
every value the client typed is coerced to the field's type and bound as a ``:_fN`` parameter,
so no input text ever reaches the SQL. Comparisons follow SQL three-valued logic: a NULL column
matches neither ``eq`` nor ``ne`` nor ``not (...)``; ``pr`` and ``eq null`` test for NULL.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum, StrEnum
from typing import Final, TypeAlias, assert_never

from reportd.domain.errors import FilterSyntaxError, ValidationError
from reportd.domain.formats import FieldType
from reportd.domain.models import Field

__all__ = [
    "And",
    "Comparison",
    "Expr",
    "InList",
    "Literal",
    "Not",
    "Op",
    "Or",
    "Present",
    "SqlFragment",
    "compile_expr",
    "compile_filter",
    "format_filter",
    "format_literal",
    "parse_filter",
    "parse_order_by",
    "quote_identifier",
]

Scalar: TypeAlias = str | int | float | bool | None
Bound: TypeAlias = str | int | float | bool | date | datetime

MAX_FILTER_LENGTH: Final = 10_000
# Nesting of parentheses and `not`; keeps the recursion far from Python's limit.
MAX_DEPTH: Final = 64
_INT64_MIN: Final = -(2**63)
_INT64_MAX: Final = 2**63 - 1


@dataclass(frozen=True, slots=True)
class SqlFragment:
    """A piece of SQL with its bound values, in SQLAlchemy ``text()`` (``:name``) style."""

    sql: str
    params: dict[str, object]


class Op(StrEnum):
    EQ = "eq"
    NE = "ne"
    GT = "gt"
    GE = "ge"
    LT = "lt"
    LE = "le"
    CO = "co"
    SW = "sw"
    EW = "ew"
    PR = "pr"
    IN = "in"


_LIKE_OPS: Final = frozenset({Op.CO, Op.SW, Op.EW})
_ORDERING_OPS: Final = frozenset({Op.GT, Op.GE, Op.LT, Op.LE})
_SQL_OPS: Final = {Op.EQ: "=", Op.NE: "<>", Op.GT: ">", Op.GE: ">=", Op.LT: "<", Op.LE: "<="}
_OP_LIST: Final = ", ".join(op.value for op in Op)


# -- AST: positions are carried for error messages but do not take part in equality --------------


def _position() -> int:
    return dataclasses.field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Literal:
    value: Scalar
    position: int = _position()


@dataclass(frozen=True, slots=True)
class Comparison:
    field: str
    op: Op
    value: Literal
    position: int = _position()
    op_position: int = _position()


@dataclass(frozen=True, slots=True)
class Present:
    field: str
    position: int = _position()


@dataclass(frozen=True, slots=True)
class InList:
    field: str
    values: tuple[Literal, ...]
    position: int = _position()
    op_position: int = _position()


@dataclass(frozen=True, slots=True)
class And:
    operands: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Or:
    operands: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Not:
    operand: Expr


Expr: TypeAlias = Comparison | Present | InList | And | Or | Not


# -- Tokenizer ------------------------------------------------------------------------------------


class _Kind(Enum):
    WORD = "word"
    STRING = "string"
    NUMBER = "number"
    LPAREN = "("
    RPAREN = ")"
    LBRACKET = "["
    RBRACKET = "]"
    COMMA = ","
    END = "end of filter"


@dataclass(frozen=True, slots=True)
class _Token:
    kind: _Kind
    text: str  # the source text, so that positions advance by len(text)
    position: int
    value: Scalar = None


_PUNCTUATION: Final = {
    "(": _Kind.LPAREN,
    ")": _Kind.RPAREN,
    "[": _Kind.LBRACKET,
    "]": _Kind.RBRACKET,
    ",": _Kind.COMMA,
}
_CLOSERS: Final = {_Kind.LPAREN: _Kind.RPAREN, _Kind.LBRACKET: _Kind.RBRACKET}
_SPACE_RE: Final = re.compile(r"\s+")
_WORD_RE: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")
_NUMBER_RE: Final = re.compile(r"-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_STRING_CHUNK_RE: Final = re.compile(r'[^"\\]*')
_HEX4_RE: Final = re.compile(r"[0-9a-fA-F]{4}")
_ESCAPES: Final = {
    '"': '"',
    "\\": "\\",
    "/": "/",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
}


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    while True:
        space = _SPACE_RE.match(text, pos)
        if space:
            pos = space.end()
        if pos >= len(text):
            tokens.append(_Token(_Kind.END, "", len(text)))
            return tokens
        token = _scan_token(text, pos)
        tokens.append(token)
        pos += len(token.text)


def _scan_token(text: str, pos: int) -> _Token:
    char = text[pos]
    if char in _PUNCTUATION:
        return _Token(_PUNCTUATION[char], char, pos)
    if char == '"':
        return _scan_string(text, pos)
    if char == "-" or "0" <= char <= "9":
        return _scan_number(text, pos)
    word = _WORD_RE.match(text, pos)
    if word:
        return _Token(_Kind.WORD, word.group(), pos)
    raise FilterSyntaxError(f"unexpected character {char!r}", position=pos, expression=text)


def _number_from_text(raw: str) -> int | float:
    """The value of a numeric literal; over-long integers become floats (Python caps int())."""
    if any(c in raw for c in ".eE"):
        return float(raw)
    try:
        return int(raw)
    except ValueError:
        return float(raw)


def _scan_number(text: str, pos: int) -> _Token:
    match = _NUMBER_RE.match(text, pos)
    if match is None:
        raise FilterSyntaxError("expected a digit after '-'", position=pos + 1, expression=text)
    end = match.end()
    if end < len(text) and (text[end].isalnum() or text[end] in "_."):
        raise FilterSyntaxError(
            f"invalid number {text[pos : end + 1]!r}", position=pos, expression=text
        )
    raw = match.group()
    return _Token(_Kind.NUMBER, raw, pos, _number_from_text(raw))


def _scan_string(text: str, start: int) -> _Token:
    parts: list[str] = []
    pos = start + 1
    while True:
        chunk = _STRING_CHUNK_RE.match(text, pos)
        assert chunk is not None  # the pattern matches the empty string
        if "\x00" in chunk.group():
            raise _nul_error(text, pos + chunk.group().index("\x00"))
        parts.append(chunk.group())
        pos = chunk.end()
        if pos >= len(text):
            raise FilterSyntaxError("unterminated string", position=start, expression=text)
        if text[pos] == '"':
            return _Token(_Kind.STRING, text[start : pos + 1], start, "".join(parts))
        char, pos = _scan_escape(text, pos)
        parts.append(char)


def _scan_escape(text: str, pos: int) -> tuple[str, int]:
    code = text[pos + 1 : pos + 2]
    if code == "":  # a backslash at the very end: the string never closes
        return "", pos + 1
    if code in _ESCAPES:
        return _ESCAPES[code], pos + 2
    if code == "u":
        return _scan_unicode(text, pos)
    raise FilterSyntaxError(
        f"invalid escape sequence '\\{code}' in string", position=pos, expression=text
    )


def _scan_unicode(text: str, pos: int) -> tuple[str, int]:
    """A \\uXXXX escape; a surrogate pair makes one character, a lone surrogate is refused
    because no database driver can encode it."""
    first = _hex4(text, pos)
    if 0xD800 <= first < 0xDC00 and text.startswith("\\u", pos + 6):
        second = _hex4(text, pos + 6)
        if 0xDC00 <= second < 0xE000:
            return chr(0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)), pos + 12
    if first == 0:
        raise _nul_error(text, pos)
    if 0xD800 <= first < 0xE000:
        raise FilterSyntaxError("unpaired surrogate in '\\u' escape", position=pos, expression=text)
    return chr(first), pos + 6


def _nul_error(text: str, pos: int) -> FilterSyntaxError:
    """PostgreSQL text cannot hold NUL; refusing it here keeps every source alike."""
    return FilterSyntaxError(
        "NUL characters are not allowed in strings", position=pos, expression=text
    )


def _hex4(text: str, pos: int) -> int:
    digits = text[pos + 2 : pos + 6]
    if not _HEX4_RE.fullmatch(digits):
        raise FilterSyntaxError(
            "expected 4 hexadecimal digits after '\\u'", position=pos, expression=text
        )
    return int(digits, 16)


# -- Parser ---------------------------------------------------------------------------------------


def _describe(token: _Token) -> str:
    if token.kind is _Kind.END:
        return "end of filter"
    shown = token.text if len(token.text) <= 40 else token.text[:37] + "..."
    return f"'{shown}'"


def _is_keyword(token: _Token, word: str) -> bool:
    return token.kind is _Kind.WORD and token.text.lower() == word


def _literal(token: _Token) -> Literal | None:
    if token.kind in (_Kind.STRING, _Kind.NUMBER):
        return Literal(token.value, position=token.position)
    words: dict[str, Scalar] = {"true": True, "false": False, "null": None}
    if token.kind is _Kind.WORD and token.text.lower() in words:
        return Literal(words[token.text.lower()], position=token.position)
    return None


class _Parser:
    """Recursive descent over the token list: one method per grammar rule."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._tokens = _tokenize(text)
        self._index = 0

    def parse(self) -> Expr:
        expr = self._or_expr(0)
        token = self._peek()
        if token.kind is _Kind.RPAREN:
            raise self._error("unexpected ')'", token)
        if token.kind is not _Kind.END:
            raise self._error(
                f"expected 'and', 'or' or end of filter, found {_describe(token)}", token
            )
        return expr

    def _peek(self) -> _Token:
        return self._tokens[self._index]

    def _advance(self) -> _Token:
        token = self._tokens[self._index]
        if token.kind is not _Kind.END:
            self._index += 1
        return token

    def _error(self, message: str, token: _Token) -> FilterSyntaxError:
        return FilterSyntaxError(message, position=token.position, expression=self._text)

    def _or_expr(self, depth: int) -> Expr:
        operands = [self._and_expr(depth)]
        while _is_keyword(self._peek(), "or"):
            self._advance()
            operands.append(self._and_expr(depth))
        return operands[0] if len(operands) == 1 else Or(tuple(operands))

    def _and_expr(self, depth: int) -> Expr:
        operands = [self._unary(depth)]
        while _is_keyword(self._peek(), "and"):
            self._advance()
            operands.append(self._unary(depth))
        return operands[0] if len(operands) == 1 else And(tuple(operands))

    def _unary(self, depth: int) -> Expr:
        token = self._peek()
        if depth > MAX_DEPTH:
            raise self._error(f"the filter is nested more than {MAX_DEPTH} levels deep", token)
        if _is_keyword(token, "not"):
            self._advance()
            return Not(self._unary(depth + 1))
        if token.kind is _Kind.LPAREN:
            self._advance()
            expr = self._or_expr(depth + 1)
            self._expect_close(token)
            return expr
        return self._comparison()

    def _expect_close(self, opening: _Token) -> None:
        token = self._advance()
        if token.kind is not _Kind.RPAREN:
            raise self._error(
                f"expected ')' to close the '(' at position {opening.position}, "
                f"found {_describe(token)}",
                token,
            )

    def _comparison(self) -> Expr:
        name = self._field_name()
        op_token = self._advance()
        op = _operator(op_token)
        if op is None:
            raise self._error(
                f"expected an operator after '{name.text}' ({_OP_LIST}), "
                f"found {_describe(op_token)}",
                op_token,
            )
        if op is Op.PR:
            return Present(name.text, position=name.position)
        if op is Op.IN:
            values = self._value_list(op_token)
            return InList(name.text, values, position=name.position, op_position=op_token.position)
        value = self._value(op_token)
        return Comparison(
            name.text, op, value, position=name.position, op_position=op_token.position
        )

    def _field_name(self) -> _Token:
        token = self._advance()
        if token.kind is _Kind.WORD and token.text.lower() not in ("and", "or", "not"):
            return token
        if token.kind is _Kind.RPAREN:
            raise self._error("unexpected ')', expected a field name", token)
        raise self._error(f"expected a field name, found {_describe(token)}", token)

    def _value(self, after: _Token) -> Literal:
        token = self._advance()
        literal = _literal(token)
        if literal is None:
            raise self._error(
                f"expected a value after '{after.text}', found {_describe(token)}", token
            )
        return literal

    def _value_list(self, op_token: _Token) -> tuple[Literal, ...]:
        opening = self._advance()
        closer = _CLOSERS.get(opening.kind)
        if closer is None:
            raise self._error(
                f'expected a list such as ("a", "b") after \'{op_token.text}\', '
                f"found {_describe(opening)}",
                opening,
            )
        if self._peek().kind is closer:
            raise self._error("the 'in' list is empty", self._peek())
        values = [self._value(opening)]
        while self._peek().kind is _Kind.COMMA:
            values.append(self._value(self._advance()))
        token = self._advance()
        if token.kind is not closer:
            raise self._error(f"expected ',' or '{closer.value}', found {_describe(token)}", token)
        return tuple(values)


def _operator(token: _Token) -> Op | None:
    if token.kind is not _Kind.WORD:
        return None
    try:
        return Op(token.text.lower())
    except ValueError:
        return None


def parse_filter(text: str) -> Expr:
    """Parse a filter into its AST; raise FilterSyntaxError with the 0-based position.

    A blank filter is an error here (there is no expression to return); compile_filter treats
    it as "no filter".
    """
    if len(text) > MAX_FILTER_LENGTH:
        raise FilterSyntaxError(
            f"the filter is longer than {MAX_FILTER_LENGTH} characters",
            position=MAX_FILTER_LENGTH,
            expression=text[:100],
        )
    return _Parser(text).parse()


# -- Type coercion --------------------------------------------------------------------------------


class _MismatchError(Exception):
    """A value does not fit a field type; the caller adds field and position."""


_INTEGER_TEXT_RE: Final = re.compile(r"[+-]?[0-9]{1,19}")


def _to_string(value: Scalar) -> Bound:
    if isinstance(value, str):
        return value
    raise _MismatchError("expected a double-quoted string")


def _to_integer(value: Scalar) -> Bound:
    if isinstance(value, str) and _INTEGER_TEXT_RE.fullmatch(value):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise _MismatchError("expected a whole number")
    if not _INT64_MIN <= value <= _INT64_MAX:
        raise _MismatchError("out of range")
    return value


def _to_number(value: Scalar) -> Bound:
    if isinstance(value, str) and _NUMBER_RE.fullmatch(value):
        value = _number_from_text(value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _MismatchError("expected a number")
    if isinstance(value, int):
        if _INT64_MIN <= value <= _INT64_MAX:
            return value
        value = float(value)  # float() of a >4300-digit int cannot happen: those arrive as floats
    if not math.isfinite(value):
        raise _MismatchError("out of range")
    return value


def _to_boolean(value: Scalar) -> Bound:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"  # PingOne sends booleans as strings: (mfaEnabled eq "true")
    raise _MismatchError("expected true or false")


def _to_date(value: Scalar) -> Bound:
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise _MismatchError('expected a date such as "2024-01-31"')


def _to_datetime(value: Scalar) -> Bound:
    if isinstance(value, str):
        text = value[:-1] + "+00:00" if value[-1:] in ("Z", "z") else value
        try:
            return datetime.fromisoformat(text)
        except ValueError:
            pass
    raise _MismatchError('expected a date-time such as "2024-01-31T12:00:00Z"')


_COERCERS: Final[dict[FieldType, Callable[[Scalar], Bound]]] = {
    FieldType.STRING: _to_string,
    FieldType.INTEGER: _to_integer,
    FieldType.NUMBER: _to_number,
    FieldType.BOOLEAN: _to_boolean,
    FieldType.DATE: _to_date,
    FieldType.DATETIME: _to_datetime,
}


# -- Compiler -------------------------------------------------------------------------------------


def quote_identifier(name: str) -> str:
    """Double-quote a column name for DuckDB, SQLite and PostgreSQL.

    Identifiers cannot be bound as parameters, so this is the one door through which a name
    enters SQL text: embedded quotes are doubled, and control characters and ':' are refused
    (SQLAlchemy ``text()`` would read ':name' even inside quotes as a bind parameter).
    """
    if not name or len(name) > 128 or any(ord(c) < 0x20 or c in "\x7f:" for c in name):
        raise ValidationError(f"invalid column name {name!r}")
    return '"' + name.replace('"', '""') + '"'


def _resolve(fields: Mapping[str, Field], name: str) -> Field | None:
    """Exact name first; else a unique case-insensitive match, as SCIM attribute names are."""
    if name in fields:
        return fields[name]
    folded = name.casefold()
    matches = [f for key, f in fields.items() if key.casefold() == folded]
    return matches[0] if len(matches) == 1 else None


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
        field = _resolve(self._fields, name)
        if field is not None and field.filterable:
            return field
        allowed = ", ".join(sorted(k for k, f in self._fields.items() if f.filterable)) or "none"
        problem = "unknown field" if field is None else "field is not filterable:"
        raise self._error(f"{problem} '{name}' (filterable fields: {allowed})", position)

    def _coerce(self, field: Field, literal: Literal) -> Bound:
        try:
            return _COERCERS[field.type](literal.value)
        except _MismatchError as exc:
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
        if node.op in _LIKE_OPS and field.type is not FieldType.STRING:
            raise self._error(
                f"operator '{node.op.value}' applies to string fields only; "
                f"'{field.name}' is {field.type.value}",
                node.op_position,
            )
        if node.op in _ORDERING_OPS and field.type is FieldType.BOOLEAN:
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
        if node.op in _LIKE_OPS:
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


# -- Sort order -----------------------------------------------------------------------------------

_ORDER_ITEM_RE: Final = re.compile(
    r"\s*(?P<sign>[+-]?)\s*(?P<name>[^\s+-]\S*?)(?:\s+(?P<dir>asc|desc))?\s*", re.IGNORECASE
)


def _order_item(item: str) -> tuple[str, bool, int]:
    match = _ORDER_ITEM_RE.fullmatch(item)
    if match is None:
        raise FilterSyntaxError(
            f"invalid order_by item {item!r}: expected a field name, "
            "optionally prefixed with '-' for descending",
            position=0,
            expression=item,
        )
    sign, direction = match.group("sign"), (match.group("dir") or "").lower()
    if sign and direction:
        raise FilterSyntaxError(
            f"order_by item {item!r} gives the direction twice: use '-name' or 'name desc'",
            position=match.start("dir"),
            expression=item,
        )
    return match.group("name"), sign == "-" or direction == "desc", match.start("name")


def parse_order_by(
    items: Sequence[str], fields: Mapping[str, Field]
) -> tuple[tuple[str, bool], ...]:
    """``["-amount", "name"]`` -> ``(("amount", True), ("name", False))``; True = descending.

    Also accepts ``"amount desc"``/``"amount asc"``. Only sortable fields, each at most once.
    """
    if isinstance(items, str):  # a lone string is one item, not a sequence of characters
        items = (items,)
    order: list[tuple[str, bool]] = []
    for item in items:
        name, descending, position = _order_item(item)
        field = _resolve(fields, name)
        if field is None or not field.sortable:
            allowed = ", ".join(sorted(k for k, f in fields.items() if f.sortable)) or "none"
            problem = "unknown field" if field is None else "field is not sortable:"
            raise FilterSyntaxError(
                f"cannot order by {problem} '{name}' (sortable fields: {allowed})",
                position=position,
                expression=item,
            )
        if any(seen == field.name for seen, _ in order):
            raise FilterSyntaxError(
                f"'{field.name}' appears more than once in order_by",
                position=position,
                expression=item,
            )
        order.append((field.name, descending))
    return tuple(order)


# -- Canonical text -------------------------------------------------------------------------------

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
