"""Report search: "which of my reports", asked by any router, answered once.

A search is a set of conditions on a fixed set of report attributes (``REPORT_FIELDS``), given
as filter-language text (the native ``filter``), as SpaceONE-style ``{key, value, operator}``
conditions (all of ``conditions``, any of ``any_of``), or as a keyword; plus a sort, a page and
``count_only``. Every form becomes one AST of ``reportd.domain.filters`` and is compiled by it
to parameterised SQL on the reports table, so the rules (which attributes, which operators,
how values are typed, how NULL behaves) exist once, whichever dialect asked.

Operators (SpaceONE's ``spaceone.core`` query operators): ``eq not gt gte lt lte in not_in
contain not_contain contain_in not_contain_in exists datetime_gt datetime_gte datetime_lt
datetime_lte timediff_gt timediff_gte timediff_lt timediff_lte``. As in SpaceONE, the negative
ones (``not``, ``not_in``, ``not_contain``...) also match a report that lacks the attribute.
``regex``, ``regex_in`` and ``match`` are refused: they cannot be compiled to portable SQL.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from reportd.app.access import require
from reportd.domain import bounds
from reportd.domain.errors import ValidationError
from reportd.domain.filters import (
    And,
    Comparison,
    Expr,
    InList,
    Literal,
    Not,
    Op,
    Or,
    Present,
    compile_expr,
    format_filter,
    parse_filter,
    parse_order_by,
)
from reportd.domain.formats import FieldType
from reportd.domain.listing import REPORT_FIELDS, ReportPage, ReportSelection
from reportd.domain.models import Principal, Scope
from reportd.domain.paging import MAX_PAGE, check_page

if TYPE_CHECKING:
    from reportd.app.ports import ReportSearchRepository

__all__ = [
    "KEYWORD_FIELDS",
    "MAX_LIMIT",
    "OPERATORS",
    "REPORT_FIELDS",
    "Condition",
    "ReportSearch",
    "ReportSearchQuery",
    "equalities",
    "select_fields",
]

MAX_LIMIT: Final = MAX_PAGE


# What a keyword is looked for in (SpaceONE's keyword search), any of them.
KEYWORD_FIELDS: Final = ("report_id", "name", "template_id", "created_by")


@dataclass(frozen=True, slots=True)
class Condition:
    """One SpaceONE-style condition: ``{"k": key, "v": value, "o": operator}``."""

    key: str
    value: Any = None
    operator: str = "eq"


@dataclass(frozen=True, slots=True)
class ReportSearchQuery:
    """Every part is optional; all given parts must hold (``any_of``: one of its conditions)."""

    conditions: tuple[Condition, ...] = ()
    any_of: tuple[Condition, ...] = ()
    filter: str | None = None
    keyword: str | None = None
    sort: tuple[tuple[str, bool], ...] = ()  # (attribute, descending); empty: newest first
    offset: int = 0
    limit: int = 100
    cursor: str | None = None
    count_only: bool = False


def equalities(**values: str | None) -> tuple[Condition, ...]:
    """``eq`` conditions for the attributes given a value (list parameters such as ``state=``)."""
    return tuple(Condition(key, value) for key, value in values.items() if value is not None)


def select_fields(record: Mapping[str, Any], only: Sequence[str]) -> dict[str, Any]:
    """The record reduced to ``only`` (all of it when empty); an unknown name is an error."""
    if not only:
        return dict(record)
    unknown = [name for name in only if name not in record]
    if unknown:
        raise ValidationError(
            f"unknown fields in only: {unknown}; known: {list(record)}",
            details={"only": unknown},
        )
    return {name: value for name, value in record.items() if name in only}


class ReportSearch:
    """The report search use case, over the search port alone."""

    def __init__(self, search: ReportSearchRepository) -> None:
        self._search = search

    def search(self, principal: Principal, query: ReportSearchQuery) -> ReportPage:
        require(principal, Scope.REPORTS_READ)
        check_page(query.limit, query.offset)
        check_query_bounds(query)
        order = _order(query.sort)
        if query.cursor and order:
            raise ValidationError("a cursor pages the default order only (newest first)")
        selection = ReportSelection(
            tenant_id=principal.tenant_id,
            where=search_conditions(query),
            order=order,
            offset=query.offset,
            limit=query.limit,
            cursor=query.cursor,
            count_only=query.count_only,
        )
        return self._search.search(selection)


def check_query_bounds(query: ReportSearchQuery) -> None:
    """Patterns and values within ``domain.bounds`` before any becomes SQL (a 50,000-character
    ``contain`` was SQLite's "LIKE pattern too complex", a 500)."""
    if query.keyword is not None:
        bounds.check_text(query.keyword, what="keyword")
    for condition in (*query.conditions, *query.any_of):
        bounds.check_text(condition.key, what="filter key")
        values = condition.value if isinstance(condition.value, list | tuple) else [condition.value]
        bounds.check_value(values, what=f"filter value of {condition.key[:100]}")
        for value in values:
            if isinstance(value, str):
                bounds.check_text(value, what=f"filter value of {condition.key[:100]}")
    bounds.check_value([list(pair) for pair in query.sort], what="sort")


def _order(sort: Sequence[tuple[str, bool]]) -> tuple[tuple[str, bool], ...]:
    items = [f"-{key}" if descending else key for key, descending in sort]
    return parse_order_by(items, REPORT_FIELDS)


def search_conditions(query: ReportSearchQuery) -> tuple[Expr, ...]:
    """Every condition of ``query``, each checked against ``REPORT_FIELDS`` (all must hold).

    Raises FilterSyntaxError or ValidationError for what a store could not run.
    """
    parts: list[Expr] = [condition_expr(c) for c in query.conditions]
    if query.any_of:
        parts.append(_any(condition_expr(c) for c in query.any_of))
    if query.keyword:
        keyword = Literal(query.keyword)
        parts.append(_any(Comparison(key, Op.CO, keyword) for key in KEYWORD_FIELDS))
    found: list[Expr] = []
    if parts:
        expr = parts[0] if len(parts) == 1 else And(tuple(parts))
        compile_expr(expr, REPORT_FIELDS, expression=format_filter(expr))
        found.append(expr)
    if query.filter and query.filter.strip():
        # Checked on its own so that error positions point into the text the client sent.
        expr = parse_filter(query.filter)
        compile_expr(expr, REPORT_FIELDS, expression=query.filter)
        found.append(expr)
    return tuple(found)


def _any(exprs: Any) -> Expr:
    operands = tuple(exprs)
    return operands[0] if len(operands) == 1 else Or(operands)


# -- SpaceONE operators -> AST ---------------------------------------------------------------


def _scalar(condition: Condition) -> Literal:
    value = condition.value
    if value is None or isinstance(value, str | int | float | bool):
        return Literal(value)
    raise ValidationError(
        f"the value of the {condition.operator!r} operator must be a single value "
        f"(key {condition.key!r})"
    )


def _values(condition: Condition) -> tuple[Literal, ...]:
    value = condition.value
    if not isinstance(value, list | tuple) or not value:
        raise ValidationError(
            f"the value of the {condition.operator!r} operator must be a non-empty list "
            f"(key {condition.key!r})"
        )
    return tuple(_scalar(Condition(condition.key, v, condition.operator)) for v in value)


def _text(condition: Condition) -> Literal:
    literal = _scalar(condition)
    if not isinstance(literal.value, str):
        raise ValidationError(
            f"the value of the {condition.operator!r} operator must be a string "
            f"(key {condition.key!r})"
        )
    return literal


def _or_missing(key: str, expr: Expr) -> Expr:
    """SpaceONE (MongoDB) negations also match a document without the attribute."""
    return Or((expr, Not(Present(key))))


def _compare(op: Op) -> Callable[[Condition], Expr]:
    return lambda c: Comparison(c.key, op, _scalar(c))


def _not(c: Condition) -> Expr:
    literal = _scalar(c)
    if literal.value is None:
        return Comparison(c.key, Op.NE, literal)
    return _or_missing(c.key, Comparison(c.key, Op.NE, literal))


def _exists(c: Condition) -> Expr:
    if not isinstance(c.value, bool):
        raise ValidationError(
            f"the value of the 'exists' operator must be a boolean (key {c.key!r})"
        )
    return Present(c.key) if c.value else Not(Present(c.key))


def _contain_in(c: Condition) -> Expr:
    return _any(Comparison(c.key, Op.CO, _text(Condition(c.key, v, c.operator))) for v in c.value)


def _not_contain_in(c: Condition) -> Expr:
    _values(c)
    each = [Not(Comparison(c.key, Op.CO, _text(Condition(c.key, v, c.operator)))) for v in c.value]
    return _or_missing(c.key, each[0] if len(each) == 1 else And(tuple(each)))


def _datetime(op: Op) -> Callable[[Condition], Expr]:
    def build(c: Condition) -> Expr:
        _require_datetime(c)
        return Comparison(c.key, op, _text(c))

    return build


def _timediff(op: Op) -> Callable[[Condition], Expr]:
    def build(c: Condition) -> Expr:
        _require_datetime(c)
        moment = parse_timediff(_text(c).value)  # type: ignore[arg-type]
        return Comparison(c.key, op, Literal(moment.isoformat()))

    return build


def _require_datetime(c: Condition) -> None:
    field = REPORT_FIELDS.get(c.key)
    if field is not None and field.type is not FieldType.DATETIME:
        raise ValidationError(
            f"the {c.operator!r} operator needs a date-time key; {c.key!r} is not"
        )


def _listed(c: Condition) -> Condition:
    _values(c)
    return c


OPERATORS: Final[Mapping[str, Callable[[Condition], Expr]]] = {
    "eq": _compare(Op.EQ),
    "not": _not,
    "gt": _compare(Op.GT),
    "gte": _compare(Op.GE),
    "lt": _compare(Op.LT),
    "lte": _compare(Op.LE),
    "in": lambda c: InList(c.key, _values(c)),
    "not_in": lambda c: _or_missing(c.key, Not(InList(c.key, _values(c)))),
    "contain": lambda c: Comparison(c.key, Op.CO, _text(c)),
    "not_contain": lambda c: _or_missing(c.key, Not(Comparison(c.key, Op.CO, _text(c)))),
    "contain_in": lambda c: _contain_in(_listed(c)),
    "not_contain_in": _not_contain_in,
    "exists": _exists,
    "datetime_gt": _datetime(Op.GT),
    "datetime_gte": _datetime(Op.GE),
    "datetime_lt": _datetime(Op.LT),
    "datetime_lte": _datetime(Op.LE),
    "timediff_gt": _timediff(Op.GT),
    "timediff_gte": _timediff(Op.GE),
    "timediff_lt": _timediff(Op.LT),
    "timediff_lte": _timediff(Op.LE),
}


def condition_expr(condition: Condition) -> Expr:
    """The AST of one condition; unknown keys are reported by the compiler, with the list."""
    build = OPERATORS.get(condition.operator)
    if build is None:
        raise ValidationError(
            f"operator {condition.operator!r} is not supported; supported: {sorted(OPERATORS)}",
            details={"key": condition.key, "operator": condition.operator},
        )
    return build(condition)


_TIMEDIFF_RE: Final = re.compile(
    r"^\s?(?P<base>now(?:/[dw])?)\s?(?:(?P<sign>[+-])\s?(?P<number>\d+)(?P<unit>[smhdw]))?\s?$"
)
_UNITS: Final = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_timediff(value: str, now: datetime | None = None) -> datetime:
    """SpaceONE's ``now``, ``now/d`` (today 00:00 UTC), ``now/w`` (Monday), each ``±N[smhdw]``."""
    match = _TIMEDIFF_RE.match(value)
    if match is None:
        raise ValidationError(f"timediff value {value!r} is not like 'now-1d' or 'now/d+2h'")
    moment = now or datetime.now(UTC)
    if match["base"] != "now":
        moment = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if match["base"] == "now/w":
        moment -= timedelta(days=moment.weekday())
    if match["sign"]:
        delta = timedelta(**{_UNITS[match["unit"]]: int(match["number"])})
        moment = moment + delta if match["sign"] == "+" else moment - delta
    return moment
