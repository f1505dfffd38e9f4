"""A report's first rows and its row count, before anyone waits for the whole file.

Why a use case of its own: the console's form (and the SDK) show what the current options and
filter select while they are being chosen, as Stripe's and Metabase's builders do. The rows
come from the same validated request and the same final SQL a worker would run, read through
the source's own stream and cut after ``PREVIEW_ROWS``, so a preview never costs a report.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any, Protocol

from reportd.domain.models import Principal, Report, ReportRequest, Scope, Template
from reportd.domain.query import build_report_query

PREVIEW_ROWS = 50


class _Stream(Protocol):
    def __iter__(self) -> Any: ...
    def count(self) -> int | None: ...
    def close(self) -> None: ...


class _Source(Protocol):
    def stream(self, sql: str, params: Mapping[str, object], *, batch_size: int) -> _Stream: ...


@dataclass(frozen=True, slots=True)
class PreviewResult:
    template_id: str
    fields: tuple[str, ...]
    rows: list[dict[str, Any]]
    row_count: int | None  # None: the source cannot count without reading everything
    limit: int = PREVIEW_ROWS


class Preview:
    def __init__(
        self,
        *,
        validate: Callable[[str, ReportRequest], Report],
        template: Callable[[str, str], Template],
        source: Callable[[str], _Source],
        require: Callable[[Principal, Scope], None],
    ) -> None:
        self._validate = validate
        self._template = template
        self._source = source
        self._require = require

    def preview(self, principal: Principal, request: ReportRequest) -> PreviewResult:
        """The first rows of what ``request`` would make, checked exactly like a create."""
        self._require(principal, Scope.REPORTS_READ)
        template = self._template(request.template_id, principal.tenant_id)
        if not request.formats:  # a preview writes no file: any format the template has
            request = replace(request, formats=(template.formats[0].value,))
        report = self._validate(principal.tenant_id, request)
        fragment = build_report_query(
            template.query,
            report.fields,
            template.fields_by_name,
            report.filter,
            report.order_by,
        )
        params = {**report.options, **fragment.params, "tenant_id": principal.tenant_id}
        stream = self._source(template.source).stream(fragment.sql, params, batch_size=PREVIEW_ROWS)
        try:
            first = next(iter(stream), None)
            rows = [] if first is None else first.slice(0, PREVIEW_ROWS).to_pylist()
            count = stream.count()
        finally:
            stream.close()
        return PreviewResult(
            template_id=template.id,
            fields=report.fields,
            rows=[{k: json_value(v) for k, v in row.items()} for row in rows],
            row_count=count,
        )


def json_value(value: object) -> Any:
    """A value as JSON can carry it: numbers and text as they are, the rest as text."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if value == value and value not in (float("inf"), float("-inf")) else None
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, Mapping):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, Sequence):
        return [json_value(v) for v in value]
    return str(value)
