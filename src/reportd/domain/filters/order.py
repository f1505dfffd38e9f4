"""Sort order: ``order_by`` items checked against the template's sortable fields."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Final

from reportd.domain.errors import FilterSyntaxError
from reportd.domain.filters.fields import resolve_field
from reportd.domain.models import Field

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
        field = resolve_field(fields, name)
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
