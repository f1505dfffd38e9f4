"""Report templates: read from YAML files, checked, and turned into domain Templates.

Errors name the file and the exact key that is wrong, because operators edit these by hand.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from reportd.adapters.template_display import parse_display, parse_totals
from reportd.app.options import ANY_OBJECT
from reportd.domain.errors import ValidationError
from reportd.domain.formats import FieldType, Format, ZipEncryption
from reportd.domain.models import CSV_DELIMITERS, ChartSpec, CsvLayout, Field, PdfLayout, Template

TEMPLATE_ID = re.compile(r"^[a-z0-9_-]+$")
_REQUIRED = ("id", "name", "source", "query", "fields")


def parse_template(data: Any, origin: str = "<template>") -> Template:
    """A domain Template from one YAML document, or a ValidationError naming the problem."""
    if not isinstance(data, Mapping):
        raise ValidationError(f"{origin}: a template must be a mapping")
    missing = [key for key in _REQUIRED if key not in data]
    if missing:
        raise ValidationError(f"{origin}: missing required keys {missing}")
    template_id = str(data["id"])
    if not TEMPLATE_ID.match(template_id):
        raise ValidationError(f"{origin}: id {template_id!r} must match [a-z0-9_-]+")
    fields = _fields(data["fields"], origin)
    parameters = data.get("parameters") or dict(ANY_OBJECT)
    _check_schema(parameters, origin)
    return Template(
        id=template_id,
        name=str(data["name"]),
        description=str(data.get("description") or ""),
        source=str(data["source"]),
        query=str(data["query"]),
        fields=fields,
        formats=_formats(data.get("formats"), origin),
        parameters=parameters,
        display_name=data.get("display_name"),
        timeout=_positive_int(data, "timeout", 600, origin),
        retention=_positive_int(data, "retention", 86_400, origin),
        subject=data.get("subject"),
        pdf=_pdf(data.get("pdf"), fields, origin),
        csv=_csv(data.get("csv"), origin),
        display=parse_display(data, data["fields"], fields, origin),
        totals=parse_totals(data.get("totals"), fields, origin),
        max_rows_per_file=data.get("max_rows_per_file"),
        max_bytes_per_file=data.get("max_bytes_per_file"),
        keep_data=bool(data.get("keep_data", False)),
        dedup_window=data.get("dedup_window"),
        zip_encryption=ZipEncryption.parse(data.get("zip_encryption") or "aes256"),
    )


def _fields(raw: Any, origin: str) -> tuple[Field, ...]:
    if not isinstance(raw, list) or not raw:
        raise ValidationError(f"{origin}: fields must be a non-empty list")
    fields: list[Field] = []
    for index, item in enumerate(raw):
        if not isinstance(item, Mapping) or "name" not in item:
            raise ValidationError(f"{origin}: fields[{index}] needs a name")
        type_name = str(item.get("type", "string"))
        if type_name not in FieldType.__members__.values():
            known = [t.value for t in FieldType]
            raise ValidationError(
                f"{origin}: fields[{index}] ({item['name']}): "
                f"type {type_name!r} is not one of {known}"
            )
        fields.append(_field(item, FieldType(type_name), f"{origin}: fields[{index}]"))
    names = [f.name for f in fields]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValidationError(f"{origin}: duplicate field names {duplicates}")
    return tuple(fields)


def _field(item: Mapping[str, Any], kind: FieldType, origin: str) -> Field:
    """One field; ``precision``/``scale`` for decimals, json and list never filter or sort."""
    name = str(item["name"])
    filterable = bool(item.get("filterable", False))
    sortable = bool(item.get("sortable", False))
    if kind in (FieldType.JSON, FieldType.LIST) and (filterable or sortable):
        raise ValidationError(f"{origin} ({name}): a {kind} field cannot be filterable or sortable")
    precision, scale = item.get("precision"), item.get("scale")
    if (precision is not None or scale is not None) and kind is not FieldType.DECIMAL:
        raise ValidationError(f"{origin} ({name}): precision and scale are for decimal fields")
    for key, value in (("precision", precision), ("scale", scale)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise ValidationError(f"{origin} ({name}): {key} must be an integer")
    if precision is not None and not 1 <= precision <= 38:
        raise ValidationError(f"{origin} ({name}): precision must be between 1 and 38")
    if scale is not None and not 0 <= scale <= (precision or 38):
        raise ValidationError(f"{origin} ({name}): scale must be between 0 and the precision")
    return Field(
        name=name,
        type=kind,
        label=item.get("label"),
        filterable=filterable,
        sortable=sortable,
        precision=precision,
        scale=scale,
        timezone=_timezone(item.get("timezone"), kind, f"{origin} ({name})"),
    )


def _timezone(raw: Any, kind: FieldType, origin: str) -> str | None:
    if raw is None:
        return None
    if kind is not FieldType.DATETIME:
        raise ValidationError(f"{origin}: timezone is for datetime fields")
    import zoneinfo

    try:
        zoneinfo.ZoneInfo(str(raw))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError(f"{origin}: unknown timezone {raw!r}") from exc
    return str(raw)


def _formats(raw: Any, origin: str) -> tuple[Format, ...]:
    if raw is None:
        return tuple(Format)
    if not isinstance(raw, list) or not raw:
        raise ValidationError(f"{origin}: formats must be a non-empty list")
    try:
        return tuple(Format(str(f).lower()) for f in raw)
    except ValueError as exc:
        known = [f.value for f in Format]
        raise ValidationError(f"{origin}: formats {raw} must be among {known}") from exc


def _check_schema(schema: Any, origin: str) -> None:
    if not isinstance(schema, Mapping):
        raise ValidationError(f"{origin}: parameters must be a JSON Schema mapping")
    if schema == ANY_OBJECT:
        return  # valid; jsonschema (~40 ms to import) is left for templates with parameters
    import jsonschema

    try:
        jsonschema.Draft202012Validator.check_schema(schema)
    except jsonschema.SchemaError as exc:
        message = f"{origin}: parameters is not a valid JSON Schema: {exc.message}"
        raise ValidationError(message) from exc


def _positive_int(data: Mapping[str, Any], key: str, default: int, origin: str) -> int:
    value = data.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ValidationError(f"{origin}: {key} must be a positive number of seconds")
    return value


def _csv(raw: Any, origin: str) -> CsvLayout:
    if raw is None:
        return CsvLayout()
    if not isinstance(raw, Mapping) or set(raw) - {"bom", "delimiter", "formatted"}:
        raise ValidationError(
            f"{origin}: csv takes only bom (true/false), delimiter and formatted (true/false)"
        )
    bom = raw.get("bom", False)
    delimiter = raw.get("delimiter", ",")
    formatted = raw.get("formatted", False)
    if not isinstance(bom, bool):
        raise ValidationError(f"{origin}: csv.bom must be true or false")
    if not isinstance(formatted, bool):
        raise ValidationError(f"{origin}: csv.formatted must be true or false")
    if delimiter not in CSV_DELIMITERS:
        raise ValidationError(f"{origin}: csv.delimiter must be one of {list(CSV_DELIMITERS)}")
    return CsvLayout(bom=bom, delimiter=delimiter, formatted=formatted)


def _pdf(raw: Any, fields: tuple[Field, ...], origin: str) -> PdfLayout | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise ValidationError(f"{origin}: pdf must be a mapping")
    names = {f.name for f in fields}
    chart = None
    if raw.get("chart"):
        spec = raw["chart"]
        chart = ChartSpec(type=str(spec.get("type", "bar")), x=str(spec["x"]), y=str(spec["y"]))
        if chart.type not in ("bar", "line", "pie"):
            raise ValidationError(f"{origin}: pdf.chart.type must be bar, line or pie")
        unknown = {chart.x, chart.y} - names
        if unknown:
            raise ValidationError(f"{origin}: pdf.chart names unknown fields {sorted(unknown)}")
    columns = tuple(str(c) for c in raw.get("columns") or ())
    if set(columns) - names:
        raise ValidationError(f"{origin}: pdf.columns names unknown fields")
    return PdfLayout(
        title=raw.get("title"),
        columns=columns,
        chart=chart,
        landscape=raw.get("landscape"),
        row_cap=int(raw.get("row_cap", 100_000)),
        max_pages=_max_pages(raw.get("max_pages"), origin),
    )


def _max_pages(raw: Any, origin: str) -> int | None:
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int) or raw < 1:
        raise ValidationError(f"{origin}: pdf.max_pages must be a whole number of pages, 1 or more")
    return raw


def load_template_file(path: Path) -> Template:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ValidationError(f"{path}: not valid YAML: {exc}") from exc
    return parse_template(data, str(path))


def load_templates(dirs: list[Path]) -> dict[str, Template]:
    """Every ``*.yaml``/``*.yml`` file in ``dirs``; the first directory wins on duplicate ids."""
    found: dict[str, Template] = {}
    for directory in dirs:
        if not directory.is_dir():
            raise ValidationError(f"templates directory {directory} does not exist")
        for path in sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")]):
            template = load_template_file(path)
            found.setdefault(template.id, template)
    return found
