"""A template definition sent as JSON (the YAML file's model), checked with positions.

The operator's files are parsed by ``template_files.parse_template``, whose messages name the
file and the key. A tenant sending JSON wants to know *where* each problem is, as a path into
its document (``fields[2].type``, ``parameters.properties.since.type``), and wants every
problem of the document at once, not the first only: this module finds the structural ones
with their positions, then lets the same parser the files use build the template, so a tenant
template and a file with the same content are the same template.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

import jsonschema

from reportd.adapters.template_files import TEMPLATE_ID, parse_template
from reportd.domain.errors import TemplateInvalid, ValidationError
from reportd.domain.formats import FieldType, Format
from reportd.domain.models import Template

__all__ = ["KEYS", "parse_definition"]

KEYS: Final = frozenset(
    {
        "id", "name", "description", "source", "query", "fields", "parameters", "formats",
        "display_name", "timeout", "retention", "subject", "pdf", "csv", "display", "totals",
        "max_rows_per_file", "max_bytes_per_file", "keep_data", "dedup_window",
        "zip_encryption",
    }
)  # fmt: skip
_TEXT: Final = ("id", "name", "source", "query")
_FIELD_KEYS: Final = frozenset(
    {"name", "type", "label", "filterable", "sortable", "precision", "scale", "timezone",
     "format"}
)  # fmt: skip
# "<origin>: fields[3] (name): ..." / "<origin>: pdf.chart ..." -> the position it names.
_POSITION: Final = re.compile(r"^(fields\[\d+\]|[a-z_]+(?:\.[a-z_]+)*)")
_ORIGIN: Final = "template"


def parse_definition(data: Any) -> Template:
    """The template ``data`` describes, or ``TemplateInvalid`` listing every problem found."""
    if not isinstance(data, Mapping):
        raise TemplateInvalid([{"path": "", "message": "a template must be a JSON object"}])
    errors = _structure(data)
    if errors:
        raise TemplateInvalid(errors)
    try:
        return parse_template(data, _ORIGIN)
    except ValidationError as exc:
        raise TemplateInvalid([_positioned(exc.message)]) from exc


def _structure(data: Mapping[str, Any]) -> list[dict[str, str]]:
    errors: list[dict[str, str]] = []
    for key in sorted(set(data) - KEYS - {"version"}):
        errors.append({"path": str(key), "message": f"unknown key {key!r}"})
    for key in _TEXT:
        value = data.get(key)
        if not isinstance(value, str) or not value.strip():
            errors.append({"path": key, "message": f"{key} is required, a non-empty string"})
    if isinstance(data.get("id"), str) and not TEMPLATE_ID.match(data["id"]):
        errors.append({"path": "id", "message": "id must match [a-z0-9_-]+"})
    errors.extend(_fields(data.get("fields")))
    errors.extend(_formats(data.get("formats")))
    errors.extend(_schema(data.get("parameters")))
    return errors


def _fields(raw: Any) -> list[dict[str, str]]:
    if not isinstance(raw, list) or not raw:
        return [{"path": "fields", "message": "fields must be a non-empty list"}]
    errors: list[dict[str, str]] = []
    types = [t.value for t in FieldType]
    for index, item in enumerate(raw):
        at = f"fields[{index}]"
        if not isinstance(item, Mapping):
            errors.append({"path": at, "message": "a field is an object with a name"})
            continue
        if not isinstance(item.get("name"), str) or not item["name"]:
            errors.append({"path": f"{at}.name", "message": "a field needs a name"})
        if "type" in item and item["type"] not in types:
            errors.append({"path": f"{at}.type", "message": f"type must be one of {types}"})
        for key in ("filterable", "sortable"):
            if key in item and not isinstance(item[key], bool):
                errors.append({"path": f"{at}.{key}", "message": f"{key} is true or false"})
        for key in sorted(set(item) - _FIELD_KEYS):
            errors.append({"path": f"{at}.{key}", "message": f"unknown key {key!r}"})
    return errors


def _formats(raw: Any) -> list[dict[str, str]]:
    if raw is None:
        return []
    known = [f.value for f in Format]
    if not isinstance(raw, list) or not raw:
        return [{"path": "formats", "message": f"formats is a non-empty list of {known}"}]
    return [
        {"path": f"formats[{i}]", "message": f"{f!r} is not one of {known}"}
        for i, f in enumerate(raw)
        if str(f).lower() not in known
    ]


def _schema(raw: Any) -> list[dict[str, str]]:
    """The options' JSON Schema, its problem at its own path inside ``parameters``."""
    if raw is None:
        return []
    if not isinstance(raw, Mapping):
        return [{"path": "parameters", "message": "parameters must be a JSON Schema object"}]
    try:
        jsonschema.Draft202012Validator.check_schema(raw)
    except jsonschema.SchemaError as exc:
        inner = ".".join(str(p) for p in exc.path)
        path = f"parameters.{inner}" if inner else "parameters"
        return [{"path": path, "message": f"not a valid JSON Schema: {exc.message}"}]
    return []


def _positioned(message: str) -> dict[str, str]:
    """A parser message ("template: fields[1] (x): ...") as a path and what is wrong there."""
    text = message.removeprefix(f"{_ORIGIN}: ")
    match = _POSITION.match(text)
    path = match.group(1) if match else ""
    if text.startswith("duplicate field names"):
        path = "fields"
    return {"path": path, "message": text}
