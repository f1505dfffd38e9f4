"""SpaceONE ``spaceone.api.report.v1`` Report: its messages and its four calls, for both doors.

SpaceONE serves one API over gRPC and, through grpc-gateway, over REST. reportd does the same:
``entrypoints/api/dialects/spaceone.py`` is the REST binding, ``entrypoints/grpc/`` the gRPC
one. Both turn their request into the models here, call the functions here (each one call of a
use case: ``reports.create``, ``reports.get``, ``downloads.download_link``, ``search``), and turn
the resulting ``ReportInfo``-shaped dict or ``SpaceoneFault`` into their own wire. So a rule,
a field or an error code is written once, whichever door a client came through.

Where SpaceONE's document is silent this follows SpaceONE's public conventions (``domain_id``,
the error classes, the query, timestamps, formats, states): docs/dialects.md, "SpaceONE".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from reportd.app.search import MAX_LIMIT, Condition, ReportSearchQuery, equalities, select_fields
from reportd.app.tenancy import require_own_tenant
from reportd.bootstrap import App
from reportd.domain.errors import (
    AuthenticationFailed,
    Forbidden,
    NotFound,
    RateLimited,
    ReportdError,
    ReportExpired,
    ValidationError,
)
from reportd.domain.models import Principal, Report, ReportRequest
from reportd.domain.models import ReportError as DomainReportError
from reportd.domain.paging import MAX_OFFSET
from reportd.domain.states import ReportState

__all__ = [
    "MINIMAL_FIELDS",
    "CreateReportRequest",
    "Filter",
    "GetDownloadURLRequest",
    "GetReportRequest",
    "Page",
    "ReportQuery",
    "Sort",
    "SpaceoneFault",
    "SpaceoneQuery",
    "State",
    "create",
    "fault_of",
    "get",
    "get_download_url",
    "list_reports",
    "report_info",
    "timestamp",
]

State = Literal["CREATED", "IN_PROGRESS", "FAILURE", "TIMEOUT", "CANCELED", "FINISHED"]
MINIMAL_FIELDS: Final = ("report_id", "template_id", "state", "created_at")


# -- requests (the document's tables; spaceone.api.core.v1.Query for the query) --------------


class CreateReportRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    domain_id: str
    template_id: str
    name: str
    template_options: dict[str, Any] | None = None
    storage_id: str | None = None


class GetReportRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    domain_id: str
    report_id: str
    only: list[str] = Field(default_factory=list)


class GetDownloadURLRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    domain_id: str
    report_id: str


class Filter(BaseModel):
    """``{k, v, o}``, or the long names ``{key, value, operator}``; ``o`` defaults to ``eq``."""

    model_config = ConfigDict(extra="forbid")

    key: str | None = None
    k: str | None = None
    value: Any = None
    v: Any = None
    operator: str | None = None
    o: str | None = None

    @model_validator(mode="after")
    def _has_key(self) -> Filter:
        if not (self.key or self.k):
            raise ValueError("a filter needs a key (k)")
        return self

    def condition(self) -> Condition:
        value = self.value if "value" in self.model_fields_set else self.v
        return Condition(
            key=self.key or self.k or "", value=value, operator=self.operator or self.o or "eq"
        )


class Sort(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str
    desc: bool = False


class Page(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: int = Field(default=1, ge=0, le=MAX_OFFSET)
    limit: int = Field(default=0, ge=0, le=MAX_OFFSET)


class SpaceoneQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    filter: list[Filter] = Field(default_factory=list)
    filter_or: list[Filter] = Field(default_factory=list)
    sort: Sort | list[Sort] | None = None
    page: Page | None = None
    minimal: bool = False
    count_only: bool = False
    only: list[str] = Field(default_factory=list)
    keyword: str | None = None


class ReportQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    domain_id: str
    query: SpaceoneQuery = Field(default_factory=SpaceoneQuery)
    report_id: str | None = None
    template_id: str | None = None
    storage_id: str | None = None
    schedule_id: str | None = None
    created_by: str | None = None
    state: State | None = None


# -- the calls ---------------------------------------------------------------------------------


def create(core: App, caller: Principal, body: CreateReportRequest) -> Report:
    """``create``: the new report (or a live identical one: ``deduplicated``)."""
    require_own_tenant(caller, body.domain_id)
    asked = ReportRequest(
        template_id=body.template_id,
        formats=(),
        name=body.name,
        options=body.template_options or {},
        storage_id=body.storage_id,
    )
    return core.reports.create(caller, asked, default_format=True)


def get(
    core: App, caller: Principal, domain_id: str, report_id: str, only: list[str]
) -> dict[str, Any]:
    """``get``: ReportInfo, reduced to ``only`` when given."""
    require_own_tenant(caller, domain_id)
    return _shown(core.reports.get(caller, report_id), only, minimal=False)


def get_download_url(
    core: App, caller: Principal, domain_id: str, report_id: str, base_url: str
) -> dict[str, Any]:
    """``get_download_url``: ReportDownloadInfo, a signed link under ``base_url``."""
    require_own_tenant(caller, domain_id)
    link = core.downloads.download_link(caller, report_id, None, base_url=base_url)
    return {"download_url": link.url}


def list_reports(core: App, caller: Principal, asked: ReportQuery) -> dict[str, Any]:
    """``list``: ReportsInfo."""
    require_own_tenant(caller, asked.domain_id)
    query = asked.query
    page = core.search.search(caller, _search_query(asked))
    results = [_shown(r, query.only, query.minimal) for r in page.results]
    return {"results": results, "total_count": page.total_count}


def _search_query(asked: ReportQuery) -> ReportSearchQuery:
    query = asked.query
    fields = equalities(
        report_id=asked.report_id,
        template_id=asked.template_id,
        storage_id=asked.storage_id,
        schedule_id=asked.schedule_id,
        created_by=asked.created_by,
        state=asked.state,
    )
    sort = query.sort if isinstance(query.sort, list) else [query.sort] if query.sort else []
    page = query.page or Page()
    return ReportSearchQuery(
        conditions=(*fields, *(f.condition() for f in query.filter)),
        any_of=tuple(f.condition() for f in query.filter_or),
        keyword=query.keyword or None,
        sort=tuple((s.key, s.desc) for s in sort),
        offset=max(page.start, 1) - 1,
        limit=page.limit or MAX_LIMIT,
        count_only=query.count_only,
    )


# -- results -----------------------------------------------------------------------------------


def timestamp(moment: datetime | None) -> str:
    """A protobuf JSON Timestamp: RFC 3339 in UTC with ``Z``, 0, 3 or 6 fractional digits."""
    if moment is None:
        return ""
    moment = moment.astimezone(UTC)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    micros = moment.microsecond
    if micros:
        text += f".{micros // 1000:03d}" if micros % 1000 == 0 else f".{micros:06d}"
    return text + "Z"


def _state_and_error(report: Report) -> tuple[str, dict[str, str] | None]:
    error = report.error
    if report.state is ReportState.EXPIRED:
        expired = ReportExpired()
        found = error or DomainReportError(code=expired.code, message=expired.message)
        return ReportState.FAILURE.value, {"code": found.code, "message": found.message}
    if error is None:
        return report.state.value, None
    return report.state.value, {"code": error.code, "message": error.message}


def report_info(report: Report) -> dict[str, Any]:
    """ReportInfo, field for field as the document's table lists them."""
    state, error = _state_and_error(report)
    return {
        "domain_id": report.tenant_id,
        "report_id": report.id,
        "template_id": report.template_id,
        "storage_info": {
            "storage_id": report.storage_id,
            "name": report.storage_id,
            "domain_id": report.tenant_id,
        },
        "storage_path": report.artifacts[0].storage_key if report.artifacts else "",
        "template_options": dict(report.options),
        "state": state,
        "created_by": report.created_by or "",
        "schedule_id": report.schedule_id or "",
        "created_at": timestamp(report.created_at),
        "error": error,
    }


def _shown(report: Report, only: list[str], minimal: bool) -> dict[str, Any]:
    fields = only or (list(MINIMAL_FIELDS) if minimal else [])
    return select_fields(report_info(report), fields)


# -- errors ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SpaceoneFault:
    """A ``spaceone.core.error`` error: its gRPC status name, ``ERROR_...`` code and message."""

    status: str
    code: str
    message: str


def fault_of(exc: ReportdError) -> SpaceoneFault:
    """The SpaceONE error a domain error is, for either door."""
    if isinstance(exc, AuthenticationFailed):
        message = f"Authenticate failure. (message = {exc.message})"
        return SpaceoneFault("UNAUTHENTICATED", "ERROR_AUTHENTICATE_FAILURE", message)
    if isinstance(exc, Forbidden):
        message = f"Permission denied. ({exc.message})"
        return SpaceoneFault("PERMISSION_DENIED", "ERROR_PERMISSION_DENIED", message)
    if isinstance(exc, NotFound):
        return SpaceoneFault("INVALID_ARGUMENT", "ERROR_NOT_FOUND", exc.message)
    if isinstance(exc, ValidationError):
        return _validation_fault(exc)
    code = f"ERROR_{exc.code.upper()}"
    if isinstance(exc, RateLimited):
        return SpaceoneFault("RESOURCE_EXHAUSTED", code, exc.message)
    if exc.status in (409, 410, 416):
        return SpaceoneFault("FAILED_PRECONDITION", code, exc.message)
    if exc.status == 503:
        return SpaceoneFault("UNAVAILABLE", code, exc.message)
    return SpaceoneFault("INTERNAL", "ERROR_UNKNOWN", exc.message)


def _validation_fault(exc: ValidationError) -> SpaceoneFault:
    """A malformed request (pydantic's details name the field) or a refused argument."""
    details = exc.details
    if not (isinstance(details, list) and details and isinstance(details[0], dict)):
        return SpaceoneFault("INVALID_ARGUMENT", "ERROR_INVALID_ARGUMENT", exc.message)
    first = details[0]
    if "loc" in first:  # the request's own fields (pydantic)
        key = ".".join(str(p) for p in first["loc"] if p not in ("body", "query", "path"))
    else:  # the template's option schema: a path inside template_options
        path = str(first.get("path", "options"))
        key = "template_options" if path == "options" else f"template_options.{path}"
    if first.get("message") == "Field required":
        message = f"Required parameter. (key = {key})"
        return SpaceoneFault("INVALID_ARGUMENT", "ERROR_REQUIRED_PARAMETER", message)
    reason = first.get("message", "invalid")
    message = f"Parameter is invalid. (key = {key}, reason = {reason})"
    return SpaceoneFault("INVALID_ARGUMENT", "ERROR_INVALID_PARAMETER", message)
