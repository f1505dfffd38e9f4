"""The parser: recursive descent over the tokens, one method per grammar rule.

Hand-written so that every error carries the exact 0-based character position.
"""

from __future__ import annotations

from typing import Final

from reportd.domain import bounds
from reportd.domain.errors import FilterSyntaxError
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
from reportd.domain.filters.tokens import CLOSERS, Kind, Token, tokenize

MAX_FILTER_LENGTH: Final = bounds.MAX_FILTER
# Nesting of parentheses and `not`; keeps the recursion far from Python's limit.
MAX_DEPTH: Final = bounds.MAX_FILTER_DEPTH
_OP_LIST: Final = ", ".join(op.value for op in Op)


def _describe(token: Token) -> str:
    if token.kind is Kind.END:
        return "end of filter"
    shown = token.text if len(token.text) <= 40 else token.text[:37] + "..."
    return f"'{shown}'"


def _is_keyword(token: Token, word: str) -> bool:
    return token.kind is Kind.WORD and token.text.lower() == word


def _literal(token: Token) -> Literal | None:
    if token.kind in (Kind.STRING, Kind.NUMBER):
        return Literal(token.value, position=token.position)
    words: dict[str, Scalar] = {"true": True, "false": False, "null": None}
    if token.kind is Kind.WORD and token.text.lower() in words:
        return Literal(words[token.text.lower()], position=token.position)
    return None


class _Parser:
    """Recursive descent over the token list: one method per grammar rule."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._tokens = tokenize(text)
        self._index = 0

    def parse(self) -> Expr:
        expr = self._or_expr(0)
        token = self._peek()
        if token.kind is Kind.RPAREN:
            raise self._error("unexpected ')'", token)
        if token.kind is not Kind.END:
            raise self._error(
                f"expected 'and', 'or' or end of filter, found {_describe(token)}", token
            )
        return expr

    def _peek(self) -> Token:
        return self._tokens[self._index]

    def _advance(self) -> Token:
        token = self._tokens[self._index]
        if token.kind is not Kind.END:
            self._index += 1
        return token

    def _error(self, message: str, token: Token) -> FilterSyntaxError:
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
        if token.kind is Kind.LPAREN:
            self._advance()
            expr = self._or_expr(depth + 1)
            self._expect_close(token)
            return expr
        return self._comparison()

    def _expect_close(self, opening: Token) -> None:
        token = self._advance()
        if token.kind is not Kind.RPAREN:
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

    def _field_name(self) -> Token:
        token = self._advance()
        if token.kind is Kind.WORD and token.text.lower() not in ("and", "or", "not"):
            return token
        if token.kind is Kind.RPAREN:
            raise self._error("unexpected ')', expected a field name", token)
        raise self._error(f"expected a field name, found {_describe(token)}", token)

    def _value(self, after: Token) -> Literal:
        token = self._advance()
        literal = _literal(token)
        if literal is None:
            raise self._error(
                f"expected a value after '{after.text}', found {_describe(token)}", token
            )
        return literal

    def _value_list(self, op_token: Token) -> tuple[Literal, ...]:
        opening = self._advance()
        closer = CLOSERS.get(opening.kind)
        if closer is None:
            raise self._error(
                f'expected a list such as ("a", "b") after \'{op_token.text}\', '
                f"found {_describe(opening)}",
                opening,
            )
        if self._peek().kind is closer:
            raise self._error("the 'in' list is empty", self._peek())
        values = [self._value(opening)]
        while self._peek().kind is Kind.COMMA:
            values.append(self._value(self._advance()))
        token = self._advance()
        if token.kind is not closer:
            raise self._error(f"expected ',' or '{closer.value}', found {_describe(token)}", token)
        return tuple(values)


def _operator(token: Token) -> Op | None:
    if token.kind is not Kind.WORD:
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
