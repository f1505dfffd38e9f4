"""The filter and sort language: grammar, errors, coercion, and SQL that binds every value."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reportd.domain.errors import FilterSyntaxError, ValidationError
from reportd.domain.filters import (
    MAX_DEPTH,
    And,
    Comparison,
    Expr,
    InList,
    Literal,
    Not,
    Op,
    Or,
    Present,
    SqlFragment,
    compile_expr,
    compile_filter,
    format_filter,
    parse_filter,
    parse_order_by,
    quote_identifier,
)
from reportd.domain.formats import FieldType
from reportd.domain.models import Field


def _fields(*fields: Field) -> dict[str, Field]:
    return {f.name: f for f in fields}


FIELDS = _fields(
    Field("name", FieldType.STRING, filterable=True, sortable=True),
    Field("count", FieldType.INTEGER, filterable=True, sortable=True),
    Field("amount", FieldType.NUMBER, filterable=True, sortable=True),
    Field("paid", FieldType.BOOLEAN, filterable=True),
    Field("day", FieldType.DATE, filterable=True, sortable=True),
    Field("at", FieldType.DATETIME, filterable=True),
    Field("secret", FieldType.STRING, sortable=True),
)


def c(field: str, op: str, value: Any) -> Comparison:
    return Comparison(field, Op(op), Literal(value))


# -- Operators ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "sql", "params"),
    [
        ('name eq "a"', '"name" = :_f0', {"_f0": "a"}),
        ('name ne "a"', '"name" <> :_f0', {"_f0": "a"}),
        ("count gt 1", '"count" > :_f0', {"_f0": 1}),
        ("count ge 1", '"count" >= :_f0', {"_f0": 1}),
        ("amount lt 2.5", '"amount" < :_f0', {"_f0": 2.5}),
        ("amount le -2", '"amount" <= :_f0', {"_f0": -2}),
        ('name co "x"', "\"name\" LIKE :_f0 ESCAPE '\\'", {"_f0": "%x%"}),
        ('name sw "x"', "\"name\" LIKE :_f0 ESCAPE '\\'", {"_f0": "x%"}),
        ('name ew "x"', "\"name\" LIKE :_f0 ESCAPE '\\'", {"_f0": "%x"}),
        ("name pr", '"name" IS NOT NULL', {}),
        ('name in ("a", "b")', '"name" IN (:_f0, :_f1)', {"_f0": "a", "_f1": "b"}),
        ("count in [1,2,3]", '"count" IN (:_f0, :_f1, :_f2)', {"_f0": 1, "_f1": 2, "_f2": 3}),
        ("name eq null", '"name" IS NULL', {}),
        ("name ne null", '"name" IS NOT NULL', {}),
        ("paid eq true", '"paid" = :_f0', {"_f0": True}),
        ("paid ne false", '"paid" <> :_f0', {"_f0": False}),
    ],
)
def test_every_operator_compiles_to_bound_sql(
    text: str, sql: str, params: dict[str, object]
) -> None:
    assert compile_filter(text, FIELDS) == SqlFragment(sql, params)


def test_like_escapes_wildcards_and_backslash_in_the_bound_value() -> None:
    fragment = compile_filter(r'name co "50%_off\\now"', FIELDS)
    assert fragment.params == {"_f0": "%50\\%\\_off\\\\now%"}


def test_operators_and_keywords_are_case_insensitive() -> None:
    assert parse_filter('name EQ "a" AND NOT count Gt 1 Or paid eq TRUE') == Or(
        (And((c("name", "eq", "a"), Not(c("count", "gt", 1)))), c("paid", "eq", True))
    )


def test_field_names_fall_back_to_a_case_insensitive_match() -> None:
    assert compile_filter('NAME eq "a"', FIELDS).sql == '"name" = :_f0'


def test_param_prefix_is_used_for_every_parameter() -> None:
    fragment = compile_filter("count eq 1 or count eq 2", FIELDS, param_prefix="w")
    assert fragment == SqlFragment('("count" = :w0 OR "count" = :w1)', {"w0": 1, "w1": 2})


def test_param_prefix_must_be_an_identifier() -> None:
    with pytest.raises(ValueError, match="prefix"):
        compile_filter("count eq 1", FIELDS, param_prefix="a b")


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_blank_filter_means_no_filter(text: str) -> None:
    assert compile_filter(text, FIELDS) == SqlFragment("", {})


def test_parse_filter_refuses_blank_text_at_position_zero() -> None:
    with pytest.raises(FilterSyntaxError) as info:
        parse_filter("  ")
    assert info.value.position == 2
    assert "expected a field name" in info.value.message


# -- Precedence and structure ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "count eq 1 or count eq 2 and count eq 3",
            Or((c("count", "eq", 1), And((c("count", "eq", 2), c("count", "eq", 3))))),
        ),
        (
            "(count eq 1 or count eq 2) and count eq 3",
            And((Or((c("count", "eq", 1), c("count", "eq", 2))), c("count", "eq", 3))),
        ),
        ("not count eq 1 and name pr", And((Not(c("count", "eq", 1)), Present("name")))),
        (
            "not (count eq 1 and name pr)",
            Not(And((c("count", "eq", 1), Present("name")))),
        ),
        ("not not name pr", Not(Not(Present("name")))),
        ("((name pr))", Present("name")),
        (
            "count eq 1 and count eq 2 and count eq 3",
            And((c("count", "eq", 1), c("count", "eq", 2), c("count", "eq", 3))),
        ),
        ('name in ["a"]', InList("name", (Literal("a"),))),
    ],
)
def test_precedence_and_grouping(text: str, expected: Expr) -> None:
    assert parse_filter(text) == expected


def test_and_binds_tighter_than_or_in_sql_too() -> None:
    sql = compile_filter("count eq 1 or count eq 2 and count eq 3", FIELDS).sql
    assert sql == '("count" = :_f0 OR ("count" = :_f1 AND "count" = :_f2))'


def test_not_is_parenthesised_in_sql() -> None:
    assert compile_filter("not name pr", FIELDS).sql == 'NOT ("name" IS NOT NULL)'


# -- Values ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("literal", "value"),
    [
        (r'"a\"b"', 'a"b'),
        (r'"a\\b"', "a\\b"),
        (r'"a\nb\tc"', "a\nb\tc"),
        (r'"\u00e9"', "é"),
        (r'"\ud83d\ude00"', "\U0001f600"),
        (r'"\/\r\b\f"', "/\r\b\f"),
        ('"日本"', "日本"),
        ('""', ""),
        ("12", 12),
        ("-12", -12),
        ("1.25", 1.25),
        ("-0.5", -0.5),
        ("1e3", 1000.0),
        ("2.5E-2", 0.025),
        ("true", True),
        ("FALSE", False),
        ("null", None),
    ],
)
def test_literals(literal: str, value: object) -> None:
    expr = parse_filter(f"name eq {literal}")
    assert isinstance(expr, Comparison)
    assert expr.value.value == value
    assert type(expr.value.value) is type(value)


@pytest.mark.parametrize(
    ("field", "literal", "bound"),
    [
        ("count", "42", 42),
        ("count", '"42"', 42),
        ("count", '"-7"', -7),
        ("amount", "42", 42),
        ("amount", "4.5", 4.5),
        ("amount", '"4.5"', 4.5),
        ("amount", "99999999999999999999", 1e20),
        ("paid", "true", True),
        ("paid", '"true"', True),
        ("paid", '"FALSE"', False),
        ("day", '"2024-02-29"', date(2024, 2, 29)),
        ("at", '"2024-02-29T10:00:00Z"', datetime(2024, 2, 29, 10, tzinfo=UTC)),
        ("at", '"2024-02-29T10:00:00+00:00"', datetime(2024, 2, 29, 10, tzinfo=UTC)),
        ("at", '"2024-02-29T10:00:00"', datetime(2024, 2, 29, 10)),
        ("at", '"2024-02-29"', datetime(2024, 2, 29)),
    ],
)
def test_values_are_coerced_to_the_field_type(field: str, literal: str, bound: object) -> None:
    params = compile_filter(f"{field} eq {literal}", FIELDS).params
    assert params == {"_f0": bound}
    assert type(params["_f0"]) is type(bound)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("count eq 1.5", "is not a valid integer for field 'count'"),
        ('count eq "x"', "is not a valid integer"),
        ("count eq true", "is not a valid integer"),
        ("count eq 9223372036854775808", "out of range"),
        ('amount eq "1e5x"', "is not a valid number"),
        ('amount eq "nan"', "is not a valid number"),
        ("amount eq 1e999", "this number is not a valid number"),
        ("amount eq false", "is not a valid number"),
        ("name eq 5", "is not a valid string"),
        ("name eq true", "is not a valid string"),
        ('paid eq "yes"', "is not a valid boolean"),
        ("paid eq 1", "is not a valid boolean"),
        ('day eq "2024-02-30"', "is not a valid date"),
        ("day eq 20240101", "is not a valid date"),
        ('at eq "yesterday"', "is not a valid datetime"),
    ],
)
def test_a_value_that_does_not_fit_is_an_error_at_the_value(text: str, message: str) -> None:
    with pytest.raises(FilterSyntaxError, match=message) as info:
        compile_filter(text, FIELDS)
    assert info.value.position == text.index(" ", text.index(" ") + 1) + 1


def test_the_pingone_filter() -> None:
    fields = _fields(
        Field("userId", filterable=True),
        Field("mfaEnabled", FieldType.BOOLEAN, filterable=True),
    )
    assert compile_filter('(mfaEnabled eq "true")', fields) == SqlFragment(
        '"mfaEnabled" = :_f0', {"_f0": True}
    )


def test_hostile_values_never_reach_the_sql() -> None:
    text = r'name eq "x\"; DROP TABLE users; --" or name co "' "'" ' OR 1=1"'
    fragment = compile_filter(text, FIELDS)
    assert "DROP" not in fragment.sql
    assert "1=1" not in fragment.sql
    assert fragment.params["_f0"] == 'x"; DROP TABLE users; --'


# -- Errors ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "position", "message"),
    [
        ("amount", 6, "expected an operator after 'amount'"),
        ("amount foo 1", 7, "expected an operator after 'amount'"),
        ("amount gt", 9, "expected a value after 'gt'"),
        ("amount gt )", 10, "expected a value after 'gt'"),
        ('name eq "abc', 8, "unterminated string"),
        ('name eq "abc\\', 8, "unterminated string"),
        ("name pr)", 7, "unexpected ')'"),
        (")", 0, "unexpected ')'"),
        ("()", 1, "unexpected ')'"),
        ("(name pr", 8, "expected ')' to close the '(' at position 0"),
        ("(name pr name pr)", 9, "expected ')'"),
        ("name pr name pr", 8, "expected 'and', 'or' or end of filter"),
        ("name pr and", 11, "expected a field name"),
        ("name pr and or name pr", 12, "expected a field name, found 'or'"),
        ('"name" eq "a"', 0, "expected a field name"),
        ("not", 3, "expected a field name"),
        ('name eq "a\\x"', 10, "invalid escape sequence"),
        ('name eq "\\u12"', 9, "4 hexadecimal digits"),
        ('name eq "\\ud800"', 9, "unpaired surrogate"),
        ('name eq "\\udc00x"', 9, "unpaired surrogate"),
        ('name eq "\\u0000"', 9, "NUL characters are not allowed"),
        ('name eq "a\x00"', 10, "NUL characters are not allowed"),
        ("count eq 12abc", 9, "invalid number"),
        ("count eq 1.", 9, "invalid number"),
        ("count eq -", 10, "expected a digit"),
        ("count eq #", 9, "unexpected character '#'"),
        ("name eq 'a'", 8, "unexpected character"),
        ("name in", 7, "expected a list"),
        ('name in "a"', 8, "expected a list"),
        ("name in ()", 9, "the 'in' list is empty"),
        ('name in ("a",)', 13, "expected a value after ','"),
        ('name in ("a" "b")', 13, "expected ',' or ')'"),
        ('name in ["a")', 12, "expected ',' or ']'"),
        ("name in (name)", 9, "expected a value after '('"),
        ("name eq active", 8, "expected a value after 'eq'"),
    ],
)
def test_syntax_errors_point_at_the_exact_position(text: str, position: int, message: str) -> None:
    with pytest.raises(FilterSyntaxError) as info:
        compile_filter(text, FIELDS)
    error = info.value
    assert error.position == position
    assert message in error.message
    assert error.message.endswith(f"at position {position}")
    assert error.details == {"position": position, "expression": text}
    assert error.code == "invalid_filter"
    assert error.status == 400


@pytest.mark.parametrize(
    ("text", "position", "message"),
    [
        ('bogus eq "a"', 0, "unknown field 'bogus'"),
        ('name eq "a" and secret eq "b"', 16, "field is not filterable: 'secret'"),
        ("count co 1", 6, "operator 'co' applies to string fields only"),
        ("day sw 1", 4, "operator 'sw' applies to string fields only"),
        ("paid gt true", 5, "operator 'gt' does not apply to boolean field 'paid'"),
        ("count gt null", 9, "null can only be compared with 'eq' or 'ne'"),
        ("name co null", 8, "null can only be compared"),
        ('name in ("a", null)', 14, "null is not allowed in an 'in' list"),
        ("not (bogus pr)", 5, "unknown field 'bogus'"),
    ],
)
def test_semantic_errors_point_at_the_exact_position(
    text: str, position: int, message: str
) -> None:
    with pytest.raises(FilterSyntaxError, match=message) as info:
        compile_filter(text, FIELDS)
    assert info.value.position == position


def test_unknown_field_error_lists_the_filterable_fields() -> None:
    with pytest.raises(FilterSyntaxError) as info:
        compile_filter('bogus eq "a"', FIELDS)
    assert "(filterable fields: amount, at, count, day, name, paid)" in info.value.message


def test_nesting_is_bounded() -> None:
    deep = "(" * (MAX_DEPTH + 5) + "name pr" + ")" * (MAX_DEPTH + 5)
    with pytest.raises(FilterSyntaxError, match="nested"):
        parse_filter(deep)
    with pytest.raises(FilterSyntaxError, match="nested"):
        parse_filter("not " * 1000 + "name pr")
    assert parse_filter("(" * 10 + "name pr" + ")" * 10) == Present("name")


def test_length_is_bounded() -> None:
    with pytest.raises(FilterSyntaxError, match="longer than"):
        parse_filter("name pr or " * 2000 + "name pr")


def test_long_integer_literals_do_not_crash() -> None:
    with pytest.raises(FilterSyntaxError, match="not a valid integer"):
        compile_filter("count eq " + "9" * 5000, FIELDS)


def test_an_empty_in_list_built_in_code_is_refused() -> None:
    with pytest.raises(FilterSyntaxError, match="empty"):
        compile_expr(InList("name", ()), FIELDS)


# -- Order by -------------------------------------------------------------------------------------


def test_order_by_parses_direction() -> None:
    assert parse_order_by(["-amount", "name", "+count", "day DESC"], FIELDS) == (
        ("amount", True),
        ("name", False),
        ("count", False),
        ("day", True),
    )
    assert parse_order_by([" name asc "], FIELDS) == (("name", False),)
    assert parse_order_by([], FIELDS) == ()
    assert parse_order_by("-amount", FIELDS) == (("amount", True),)
    assert parse_order_by(["AMOUNT"], FIELDS) == (("amount", False),)


@pytest.mark.parametrize(
    ("item", "position", "message"),
    [
        ("-bogus", 1, "unknown field 'bogus'"),
        ("paid", 0, "field is not sortable: 'paid'"),
        ("", 0, "invalid order_by item"),
        ("-", 0, "invalid order_by item"),
        ("a b c", 0, "invalid order_by item"),
        ("-amount desc", 8, "direction twice"),
    ],
)
def test_order_by_errors(item: str, position: int, message: str) -> None:
    with pytest.raises(FilterSyntaxError, match=message) as info:
        parse_order_by(["name", item], FIELDS)
    assert info.value.position == position
    assert info.value.expression == item


def test_order_by_lists_sortable_fields_and_refuses_duplicates() -> None:
    with pytest.raises(
        FilterSyntaxError, match=r"sortable fields: amount, count, day, name, secret\)"
    ):
        parse_order_by(["bogus"], FIELDS)
    with pytest.raises(FilterSyntaxError, match="more than once"):
        parse_order_by(["amount", "-amount"], FIELDS)


# -- Identifiers and canonical text ---------------------------------------------------------------


def test_quote_identifier() -> None:
    assert quote_identifier("amount") == '"amount"'
    assert quote_identifier('we"ird name') == '"we""ird name"'
    for bad in ["", "a\x00b", "line\nbreak", "a:b", "x" * 129]:
        with pytest.raises(ValidationError):
            quote_identifier(bad)


def test_format_filter_is_canonical() -> None:
    text = 'NOT (a EQ "x\\"y") AND (b pr OR c in ["p", 1, -2.5, true, null]) or d ne null'
    expr = parse_filter(text)
    assert format_filter(expr) == (
        'not (a eq "x\\"y") and (b pr or c in ("p", 1, -2.5, true, null)) or d ne null'
    )
    assert parse_filter(format_filter(expr)) == expr


# -- Properties -----------------------------------------------------------------------------------

_FILTERISH = st.sampled_from(
    [
        "name", "count", "amount", "paid", "day", "at", "secret", "bogus", "eq", "ne", "gt",
        "co", "sw", "pr", "in", "and", "or", "not", "(", ")", "[", "]", ",", '"a"', '"',
        "\\", "\\u", "1", "-1", "1.5", "1e999", "-", "true", "null", '"2024-01-01"', " ",
    ]
)  # fmt: skip


def _outcome(text: str) -> SqlFragment | FilterSyntaxError:
    """Any other exception escapes and fails the test."""
    try:
        return compile_filter(text, FIELDS)
    except FilterSyntaxError as error:
        return error


@given(st.text() | st.lists(_FILTERISH, max_size=12).map("".join))
@settings(max_examples=400)
def test_any_text_compiles_or_raises_filter_syntax_error(text: str) -> None:
    outcome = _outcome(text)
    if isinstance(outcome, FilterSyntaxError):
        assert 0 <= outcome.position <= len(text)
    else:
        assert isinstance(outcome, SqlFragment)


@given(st.lists(_FILTERISH, max_size=12).map(" ".join))
@settings(max_examples=400)
def test_spaced_tokens_compile_or_raise_filter_syntax_error(text: str) -> None:
    outcome = _outcome(text)
    if isinstance(outcome, FilterSyntaxError):
        assert 0 <= outcome.position <= len(text)
    else:
        assert isinstance(outcome, SqlFragment)


def _expressions(leaf: st.SearchStrategy[Expr]) -> st.SearchStrategy[Expr]:
    def extend(children: st.SearchStrategy[Expr]) -> st.SearchStrategy[Expr]:
        several = st.lists(children, min_size=2, max_size=3).map(tuple)
        return st.one_of(children.map(Not), several.map(And), several.map(Or))

    return st.recursive(leaf, extend, max_leaves=8)


_INT64 = st.integers(-(2**63), 2**63 - 1)
_FINITE = st.floats(allow_nan=False, allow_infinity=False)
_TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"))
_ANY_VALUE_TYPES: dict[str, tuple[st.SearchStrategy[Any], tuple[Op, ...]]] = {
    "name": (_TEXT, (Op.EQ, Op.NE, Op.GT, Op.GE, Op.LT, Op.LE, Op.CO, Op.SW, Op.EW)),
    "count": (_INT64, (Op.EQ, Op.NE, Op.GT, Op.GE, Op.LT, Op.LE)),
    "amount": (_INT64 | _FINITE, (Op.EQ, Op.NE, Op.GT, Op.GE, Op.LT, Op.LE)),
}


def _leaves(
    spec: dict[str, tuple[st.SearchStrategy[Any], tuple[Op, ...]]],
) -> st.SearchStrategy[Expr]:
    @st.composite
    def leaf(draw: st.DrawFn) -> Expr:
        name = draw(st.sampled_from(sorted(spec)))
        values, ops = spec[name]
        op = draw(st.sampled_from((*ops, Op.PR, Op.IN)))
        if op is Op.PR:
            return Present(name)
        if op is Op.IN:
            items = draw(st.lists(values, min_size=1, max_size=3))
            return InList(name, tuple(Literal(v) for v in items))
        if op in (Op.EQ, Op.NE) and draw(st.integers(0, 9)) == 0:
            return Comparison(name, op, Literal(None))
        return Comparison(name, op, Literal(draw(values)))

    return leaf()


def _map_literals(expr: Expr, change: Callable[[Literal], Literal]) -> Expr:
    match expr:
        case And(operands):
            return And(tuple(_map_literals(o, change) for o in operands))
        case Or(operands):
            return Or(tuple(_map_literals(o, change) for o in operands))
        case Not(operand):
            return Not(_map_literals(operand, change))
        case Comparison(field, op, value):
            return Comparison(field, op, change(value))
        case InList(field, values):
            return InList(field, tuple(change(v) for v in values))
        case _:
            return expr


def _literals(expr: Expr) -> list[tuple[Op, Literal]]:
    """Every literal with its operator, in the order the compiler binds them."""
    match expr:
        case And(operands) | Or(operands):
            return [found for o in operands for found in _literals(o)]
        case Not(operand):
            return _literals(operand)
        case Comparison(_, op, value):
            return [(op, value)]
        case InList(_, values):
            return [(Op.IN, v) for v in values]
    return []


def _dummy(literal: Literal) -> Literal:
    value = literal.value
    if isinstance(value, str):
        return Literal("")
    if isinstance(value, bool) or value is None:
        return literal
    return Literal(0 if isinstance(value, int) else 0.0)


def _unlike(pattern: str, op: Op) -> str:
    inner = pattern[1 if op in (Op.CO, Op.EW) else 0 : -1 if op in (Op.CO, Op.SW) else None]
    out, i = [], 0
    while i < len(inner):
        assert inner[i] not in "%_", "an unescaped wildcard in a LIKE value"
        if inner[i] == "\\":
            i += 1
        out.append(inner[i])
        i += 1
    return "".join(out)


@given(_expressions(_leaves(_ANY_VALUE_TYPES)))
@settings(max_examples=300)
def test_values_only_ever_travel_as_parameters(expr: Expr) -> None:
    fragment = compile_filter(format_filter(expr), FIELDS)
    skeleton = compile_expr(_map_literals(expr, _dummy), FIELDS)
    assert fragment.sql == skeleton.sql  # the SQL text does not depend on any value
    expected = [(op, lit.value) for op, lit in _literals(expr) if lit.value is not None]
    assert list(fragment.params) == [f"_f{i}" for i in range(len(expected))]
    for (op, value), bound in zip(expected, fragment.params.values(), strict=True):
        if op in (Op.CO, Op.SW, Op.EW):
            assert isinstance(bound, str)
            assert _unlike(bound, op) == value
        else:
            assert bound == value
            assert type(bound) is type(value)


@given(_expressions(_leaves(_ANY_VALUE_TYPES)))
def test_marked_values_never_appear_in_the_sql(expr: Expr) -> None:
    marked = _map_literals(
        expr, lambda lit: Literal("\u2042" + lit.value) if isinstance(lit.value, str) else lit
    )
    assert "\u2042" not in compile_expr(marked, FIELDS).sql


@given(_expressions(_leaves(_ANY_VALUE_TYPES)))
def test_format_then_parse_gives_back_the_same_tree(expr: Expr) -> None:
    assert parse_filter(format_filter(expr)) == expr


# -- Round trip through a real database -----------------------------------------------------------

_ALPHABET = "ab%_\\\"'Aé"
_SMALL_TEXT = st.text(_ALPHABET, max_size=3)
_SMALL_NUMBER = st.integers(-3, 3) | st.sampled_from([-1.5, 0.5, 2.25]) | _FINITE
_DAYS = st.dates(date(2024, 1, 1), date(2024, 1, 6))
_DB_FIELDS = _fields(
    Field("s", FieldType.STRING, filterable=True),
    Field("i", FieldType.INTEGER, filterable=True),
    Field("n", FieldType.NUMBER, filterable=True),
    Field("b", FieldType.BOOLEAN, filterable=True),
    Field("d", FieldType.DATE, filterable=True),
)
_ORDERING = (Op.EQ, Op.NE, Op.GT, Op.GE, Op.LT, Op.LE)
_DB_SPEC: dict[str, tuple[st.SearchStrategy[Any], tuple[Op, ...]]] = {
    "s": (_SMALL_TEXT, (*_ORDERING, Op.CO, Op.SW, Op.EW)),
    "i": (st.integers(-3, 3), _ORDERING),
    "n": (_SMALL_NUMBER, _ORDERING),
    "b": (st.booleans() | st.sampled_from(["true", "false", "TRUE"]), (Op.EQ, Op.NE)),
    "d": (_DAYS.map(date.isoformat), _ORDERING),
}
_ROWS = st.lists(
    st.fixed_dictionaries(
        {
            "s": st.none() | _SMALL_TEXT,
            "i": st.none() | st.integers(-3, 3),
            "n": st.none() | _SMALL_NUMBER,
            "b": st.none() | st.booleans(),
            "d": st.none() | _DAYS,
        }
    ),
    max_size=8,
)


def _typed(name: str, value: object) -> object:
    """The reference evaluator's own, independent reading of a literal."""
    if name == "b" and isinstance(value, str):
        return value.lower() == "true"
    if name == "d" and isinstance(value, str):
        return date.fromisoformat(value)
    return value


def _compare(op: Op, left: Any, right: Any) -> bool | None:
    if left is None:
        return None
    checks: dict[Op, Callable[[Any, Any], bool]] = {
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
    return checks[op](left, right)


def _all(values: Sequence[bool | None]) -> bool | None:
    return False if False in values else None if None in values else True


def _any(values: Sequence[bool | None]) -> bool | None:
    return True if True in values else None if None in values else False


def _evaluate(expr: Expr, row: dict[str, Any]) -> bool | None:
    """SQL's three-valued logic, in Python: None is 'unknown'."""
    match expr:
        case And(operands):
            return _all([_evaluate(o, row) for o in operands])
        case Or(operands):
            return _any([_evaluate(o, row) for o in operands])
        case Not(operand):
            inner = _evaluate(operand, row)
            return None if inner is None else not inner
        case Present(field):
            return row[field] is not None
        case InList(field, values):
            if row[field] is None:
                return None
            return any(row[field] == _typed(field, v.value) for v in values)
        case Comparison(field, op, Literal(None)):
            return (row[field] is None) == (op is Op.EQ)
        case Comparison(field, op, value):
            return _compare(op, row[field], _typed(field, value.value))
    raise AssertionError(expr)


def _sqlite_value(value: object) -> object:
    return value.isoformat() if isinstance(value, date) else value


def _query(rows: list[dict[str, Any]], fragment: SqlFragment) -> list[int]:
    db = sqlite3.connect(":memory:")
    try:
        db.execute("PRAGMA case_sensitive_like = ON")  # PostgreSQL's and DuckDB's LIKE
        db.execute("CREATE TABLE t (id INTEGER, s TEXT, i INTEGER, n REAL, b BOOLEAN, d TEXT)")
        db.executemany(
            "INSERT INTO t VALUES (?, ?, ?, ?, ?, ?)",
            [
                (k, r["s"], r["i"], r["n"], r["b"], _sqlite_value(r["d"]))
                for k, r in enumerate(rows)
            ],
        )
        params = {k: _sqlite_value(v) for k, v in fragment.params.items()}
        found = db.execute(f"SELECT id FROM t WHERE {fragment.sql} ORDER BY id", params)
        return [row[0] for row in found]
    finally:
        db.close()


@given(_expressions(_leaves(_DB_SPEC)), _ROWS)
@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow], deadline=None)
def test_sqlite_returns_the_rows_a_python_evaluation_keeps(
    expr: Expr, rows: list[dict[str, Any]]
) -> None:
    fragment = compile_filter(format_filter(expr), _DB_FIELDS)
    expected = [k for k, row in enumerate(rows) if _evaluate(expr, row) is True]
    assert _query(rows, fragment) == expected


def test_sqlite_round_trip_of_like_wildcards() -> None:
    rows: list[dict[str, Any]] = [
        {"s": s, "i": None, "n": None, "b": None, "d": None}
        for s in ["50%", "50x", "a_b", "axb", "c\\d", "cd", None]
    ]
    assert _query(rows, compile_filter('s co "%"', _DB_FIELDS)) == [0]
    assert _query(rows, compile_filter('s sw "a_"', _DB_FIELDS)) == [2]
    assert _query(rows, compile_filter('s ew "\\\\d"', _DB_FIELDS)) == [4]
    assert _query(rows, compile_filter("not (s pr)", _DB_FIELDS)) == [6]


@given(
    st.sampled_from([Op.CO, Op.SW, Op.EW]),
    st.text(_ALPHABET, max_size=2),
    st.lists(st.none() | st.text(_ALPHABET, max_size=4), max_size=10),
)
@settings(max_examples=300, deadline=None)
def test_sqlite_like_agrees_with_python_string_methods(
    op: Op, needle: str, texts: list[str | None]
) -> None:
    expr = Comparison("s", op, Literal(needle))
    rows: list[dict[str, Any]] = [
        {"s": s, "i": None, "n": None, "b": None, "d": None} for s in texts
    ]
    expected = [k for k, row in enumerate(rows) if _evaluate(expr, row) is True]
    assert _query(rows, compile_filter(format_filter(expr), _DB_FIELDS)) == expected
