"""A report's options, checked against its template's JSON Schema, defaults filled in.

Why here and not with the template files: every door that makes a report (create, schedules,
subjects, ``templates validate``) must resolve options the same way, and the template's origin
(a YAML file, the API) has nothing to do with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from reportd.domain import relative_dates
from reportd.domain.errors import ValidationError
from reportd.domain.models import Template

__all__ = ["ANY_OBJECT", "resolve_options"]

# The parameters of a template that declares none: any object of options is valid.
ANY_OBJECT: dict[str, Any] = {"type": "object", "properties": {}}


def resolve_options(
    template: Template, options: Mapping[str, Any], *, today: date | None = None
) -> dict[str, Any]:
    """Options checked against the template's JSON Schema, with the schema's defaults filled in.

    Relative dates (``today-7d``, ``start_of_month``, see ``reportd.domain.relative_dates``)
    in date options, given or default, become the date they name on ``today`` (UTC's today
    unless the caller, e.g. a schedule firing in its time zone, says which day it is).
    """
    if "tenant_id" in options:
        raise ValidationError("tenant_id is bound from the caller and cannot be an option")
    schema = dict(template.parameters)
    resolved = dict(options)
    for name, spec in (schema.get("properties") or {}).items():
        if name not in resolved and isinstance(spec, Mapping) and "default" in spec:
            resolved[name] = spec["default"]
    resolved = relative_dates.evaluate(schema, resolved, today or datetime.now(UTC).date())
    if schema == ANY_OBJECT:
        return resolved  # nothing to check, and no jsonschema to import (~40 ms of start-up)
    import jsonschema

    validator = jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    errors = sorted(validator.iter_errors(resolved), key=lambda e: list(e.path))
    if errors:
        details = [
            {"path": "/".join(str(p) for p in e.path) or "options", "message": e.message}
            for e in errors
        ]
        raise ValidationError(f"options are not valid: {details[0]['message']}", details=details)
    return resolved
