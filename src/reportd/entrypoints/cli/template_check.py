"""``reportd templates validate``: say exactly what is wrong with each template file.

Beyond parsing, each query is run on its source and its first rows are read through the same
cast to the template's field types that every report uses, so a template this passes does not
fail on its first run because a column's values do not fit the declared types.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from reportd.adapters.sources.base import Source
from reportd.adapters.sources.registry import build_source
from reportd.adapters.template_files import load_template_file
from reportd.app.options import resolve_options
from reportd.config import Settings
from reportd.domain.errors import ReportdError
from reportd.domain.models import Template


def _files(settings: Settings, path: Path | None) -> list[Path]:
    if path is not None and path.is_file():
        return [path]
    dirs = [path] if path is not None else settings.template_dirs()
    return sorted(f for d in dirs for f in [*d.glob("*.yaml"), *d.glob("*.yml")])


def validate_templates(settings: Settings, path: Path | None = None) -> list[tuple[str, str]]:
    """Every problem found, as (file, message); an empty list means all is well."""
    if path is not None and not path.exists():
        return [(str(path), "no such file or directory")]
    sources: dict[str, Source] = {}
    configured = {s.name: s.url for s in settings.all_sources()}
    problems: list[tuple[str, str]] = []
    seen: dict[str, str] = {}
    try:
        for file in _files(settings, path):
            try:
                template = load_template_file(file)
            except ReportdError as exc:
                problems.append((str(file), exc.message.removeprefix(f"{file}: ")))
                continue
            if template.id in seen:
                problems.append(
                    (str(file), f"id {template.id!r} is also used by {seen[template.id]}")
                )
            seen.setdefault(template.id, str(file))
            problems.extend((str(file), m) for m in _check(template, configured, sources))
    finally:
        for source in sources.values():
            source.close()
    return problems


def _check(template: Template, configured: dict[str, str], sources: dict[str, Source]) -> list[str]:
    if template.source not in configured:
        return [f"source {template.source!r} is not configured; known: {sorted(configured)}"]
    if template.source not in sources:
        sources[template.source] = build_source(template.source, configured[template.source])
    try:
        params: dict[str, Any] = {**resolve_options(template, {}), "tenant_id": "validate"}
        columns = sources[template.source].columns(template.query, params)
    except ReportdError as exc:
        return [f"query does not run on source {template.source!r}: {exc.message}"]
    missing = [f.name for f in template.fields if f.name not in columns]
    if missing:
        return [f"fields {missing} are not columns of the query (it returns {columns})"]
    try:
        read_first_rows(template, sources[template.source], params)
    except ReportdError as exc:
        return [f"the first {FIRST_ROWS} rows do not fit the field types: {exc.message}"]
    return []


FIRST_ROWS = 1_000


def read_first_rows(template: Template, source: Source, params: dict[str, Any]) -> int:
    """Read the report's first rows through the real cast; the number of rows read."""
    from reportd.domain.query import build_report_query
    from reportd.generation.formats.schema import canonical_schema, conform

    names = [f.name for f in template.fields]
    fragment = build_report_query(template.query, names, template.fields_by_name, None, ())
    sql = f"{fragment.sql} LIMIT {FIRST_ROWS}"
    types = {f.name: f.type for f in template.fields}
    stream = source.stream(sql, params, batch_size=FIRST_ROWS, types=types)
    try:
        first = next(iter(stream), None)
    finally:
        stream.close()
    if first is None:
        return 0
    conform(first, canonical_schema(template.fields, first))
    return int(first.num_rows)
