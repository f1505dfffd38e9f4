"""A template's display keys: each field's ``format``, the ``display`` block and ``totals``.

Kept apart from template_files.py so field types and display rules can grow independently;
every error names the file and the key, as the rest of template parsing does.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Mapping, Sequence
from typing import Any

from reportd.domain.display import (
    Display,
    DisplayFormat,
    DisplayKind,
    TotalKind,
    currency,
    date_pattern,
    decimals_value,
    number_pattern,
)
from reportd.domain.errors import ValidationError
from reportd.domain.models import Field

# Field types (by name, so types added elsewhere fit in) each display kind and total apply to.
NUMERIC_TYPES = frozenset({"integer", "number", "decimal"})
_KIND_TYPES = {
    DisplayKind.NUMBER: NUMERIC_TYPES,
    DisplayKind.CURRENCY: NUMERIC_TYPES,
    DisplayKind.PERCENT: NUMERIC_TYPES,
    DisplayKind.DATE: frozenset({"date", "datetime"}),
    DisplayKind.DATETIME: frozenset({"datetime"}),
}
_TOTAL_TYPES = {
    TotalKind.SUM: NUMERIC_TYPES,
    TotalKind.AVG: NUMERIC_TYPES,
    TotalKind.MIN: NUMERIC_TYPES | {"date", "datetime", "time"},
    TotalKind.MAX: NUMERIC_TYPES | {"date", "datetime", "time"},
}
_MODIFIERS = {
    DisplayKind.NUMBER: {"decimals"},
    DisplayKind.CURRENCY: {"decimals", "symbol", "position"},
    DisplayKind.PERCENT: {"decimals"},
    DisplayKind.DATE: set(),
    DisplayKind.DATETIME: {"timezone"},
}
_MARKS = (".", ",", " ", "'", "\u00a0", "\u202f", "")


def parse_display(
    data: Mapping[str, Any], raw_fields: Sequence[Any], fields: Sequence[Field], origin: str
) -> Display:
    """The template's Display: ``display:`` settings and each field's ``format:``."""
    raw = data.get("display") or {}
    if not isinstance(raw, Mapping) or set(raw) - {"timezone", "decimal_mark", "thousands_mark"}:
        raise ValidationError(
            f"{origin}: display takes only timezone, decimal_mark and thousands_mark"
        )
    decimal_mark = _mark(raw, "decimal_mark", ".", origin)
    thousands_mark = _mark(raw, "thousands_mark", ",", origin)
    if decimal_mark == thousands_mark or not decimal_mark:
        raise ValidationError(f"{origin}: display.decimal_mark must differ from thousands_mark")
    formats: dict[str, DisplayFormat] = {}
    for index, (item, fld) in enumerate(zip(raw_fields, fields, strict=True)):
        spec = item.get("format") if isinstance(item, Mapping) else None
        if spec is not None:
            where = f"{origin}: fields[{index}] ({fld.name}).format"
            formats[fld.name] = field_format(spec, fld.type.value, where)
    return Display(
        formats=formats,
        timezone=_zone(raw.get("timezone"), f"{origin}: display.timezone"),
        decimal_mark=decimal_mark,
        thousands_mark=thousands_mark,
    )


def field_format(spec: Any, type_name: str, where: str) -> DisplayFormat:
    """One field's format: a pattern string, or a mapping with one kind and its modifiers."""
    if isinstance(spec, str):
        by_type = {"date": DisplayKind.DATE, "datetime": DisplayKind.DATETIME}
        spec = {by_type.get(type_name, DisplayKind.NUMBER).value: spec}
    if not isinstance(spec, Mapping):
        raise ValidationError(f"{where} must be a pattern string or a mapping")
    kinds = [k for k in spec if k in DisplayKind.__members__.values()]
    if len(kinds) != 1:
        known = [k.value for k in DisplayKind]
        raise ValidationError(f"{where} must name exactly one of {known}, got {sorted(spec)}")
    kind = DisplayKind(kinds[0])
    extra = set(spec) - {kind.value} - _MODIFIERS[kind]
    if extra:
        allowed = sorted(_MODIFIERS[kind]) or "nothing"
        raise ValidationError(
            f"{where}: {kind} takes {allowed} besides itself, not {sorted(extra)}"
        )
    if type_name not in _KIND_TYPES[kind]:
        raise ValidationError(
            f"{where}: {kind} is for {sorted(_KIND_TYPES[kind])} fields, not {type_name}"
        )
    if kind.is_numeric:
        return _numeric(kind, spec, where)
    return DisplayFormat(
        kind=kind,
        pattern=str(spec[kind.value]),
        tokens=date_pattern(spec[kind.value], where, with_time=kind is DisplayKind.DATETIME),
        timezone=_zone(spec.get("timezone"), f"{where}.timezone"),
    )


def _numeric(kind: DisplayKind, spec: Mapping[str, Any], where: str) -> DisplayFormat:
    value = spec[kind.value]
    if kind is DisplayKind.CURRENCY:
        position = spec.get("position", "before")
        if position not in ("before", "after"):
            raise ValidationError(f"{where}.position must be before or after")
        symbol = spec.get("symbol")
        if symbol is not None and (not isinstance(symbol, str) or '"' in symbol):
            raise ValidationError(f"{where}.symbol must be text without double quotes")
        prefix, suffix, decimals = currency(
            str(value), where, symbol=symbol, after=position == "after"
        )
        if "decimals" in spec:
            decimals = decimals_value(spec["decimals"], f"{where}.decimals")
        return DisplayFormat(kind, decimals=decimals, prefix=prefix, suffix=suffix)
    if isinstance(value, str):
        parsed = number_pattern(value, where)
        if parsed.kind is not kind and kind is DisplayKind.PERCENT:
            raise ValidationError(f"{where}: a percent pattern ends with % (e.g. '0.0%')")
        return parsed
    decimals = decimals_value(value, where)
    if "decimals" in spec:
        raise ValidationError(f"{where}: give the decimals once ({kind}: N)")
    return DisplayFormat(kind, decimals=decimals)


def _zone(raw: Any, where: str) -> str | None:
    if raw is None:
        return None
    try:
        zoneinfo.ZoneInfo(str(raw))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError(f"{where}: unknown time zone {raw!r} (e.g. Europe/Berlin)") from exc
    return str(raw)


def _mark(raw: Mapping[str, Any], key: str, default: str, origin: str) -> str:
    value = raw.get(key, default)
    if value not in _MARKS:
        raise ValidationError(f"{origin}: display.{key} must be one of {list(_MARKS)}")
    return str(value)


def parse_totals(
    raw: Any, fields: Sequence[Field], origin: str
) -> tuple[tuple[str, TotalKind], ...]:
    """``totals: {amount: sum, id: count}``: each a field, each kind fitting the field's type."""
    if raw is None:
        return ()
    if not isinstance(raw, Mapping) or not raw:
        raise ValidationError(f"{origin}: totals must be a mapping of field: sum|avg|count|min|max")
    by_name = {f.name: f for f in fields}
    result = []
    for name, kind_name in raw.items():
        where = f"{origin}: totals.{name}"
        fld = by_name.get(str(name))
        if fld is None:
            raise ValidationError(f"{where}: {name!r} is not a field")
        if kind_name not in TotalKind.__members__.values():
            raise ValidationError(f"{where}: {kind_name!r} is not one of sum, avg, count, min, max")
        kind = TotalKind(kind_name)
        allowed = _TOTAL_TYPES.get(kind)
        if allowed is not None and fld.type.value not in allowed:
            raise ValidationError(
                f"{where}: {kind} needs a {sorted(allowed)} field, not {fld.type}"
            )
        result.append((fld.name, kind))
    return tuple(result)
