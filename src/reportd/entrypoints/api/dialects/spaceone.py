"""SpaceONE (Cloudforet) ``spaceone.api.report.v1`` Report, as in seeds/001_5d0cf8b6500dbae1.txt.

Routes: ``POST /report/v1/reports`` (create), ``GET /report/v1/report/{report_id}`` (get),
``GET /report/v1/report/{report_id}/download_url`` (get_download_url), ``GET /report/v1/reports``
and ``POST /report/v1/reports/search`` (list). Messages are the document's tables: ``ReportInfo``
(its 11 fields, no more), ``ReportsInfo``, ``ReportDownloadInfo``, ``CreateReportRequest``,
``GetReportRequest``, ``GetDownloadURLRequest``, ``ReportQuery``. ``domain_id`` is required on
every call and must be the API key's tenant (403 otherwise). Auth: ``Authorization: Bearer KEY``.
Searching is ``ReportService.report_search``: the query's ``{k, v, o}`` filters are compiled by
the same filter machinery as the native API.

Where the document is silent, this follows SpaceONE's public conventions:

- Errors are what SpaceONE's REST servers (``spaceone.core.fastapi.api``) send:
  ``{"detail": {"code": "ERROR_...", "message": "..."}}``, with the status their gRPC status
  maps to. 401 ``ERROR_AUTHENTICATE_FAILURE``; 403 ``ERROR_PERMISSION_DENIED`` (a missing scope,
  a ``domain_id`` other than the caller's); 400 ``ERROR_REQUIRED_PARAMETER`` /
  ``ERROR_INVALID_PARAMETER`` for a malformed request, ``ERROR_INVALID_ARGUMENT`` for one the
  service refuses (a bad filter, an unknown ``only`` field); 400 ``ERROR_NOT_FOUND`` for an
  unknown (or another tenant's) report, template or storage, because SpaceONE's
  ``ERROR_NOT_FOUND`` is an INVALID_ARGUMENT; 400 ``ERROR_<CODE>`` (FAILED_PRECONDITION) for a
  report that is not ready or has expired; 429, 503 and 500 ``ERROR_UNKNOWN`` otherwise. Codes
  are SpaceONE's; messages carry reportd's explanation.
- The query (``spaceone.api.core.v1.Query``, api-doc ``core/v1/query.md``): ``filter`` and
  ``filter_or`` take ``{k|key, v|value, o|operator}`` with the operators of ``spaceone.core``'s
  ``filter_operator.py`` (see ``reportd.app.search``; ``regex``/``match`` are refused);
  ``sort`` is ``{key, desc}`` or a list of them; ``page.start`` is 1-based; ``only``, ``minimal``
  (``report_id, template_id, state, created_at``), ``keyword`` (in report_id, name, template_id,
  created_by) and ``count_only`` (``results`` empty). Without ``page.limit`` at most 1000
  reports come back (``total_count`` still counts them all).
- ``GET /report/v1/reports`` takes ReportQuery's fields as query parameters and, as
  grpc-gateway maps nested fields, ``query.page.start``, ``query.page.limit``,
  ``query.sort.key``, ``query.sort.desc``, ``query.keyword``, ``query.count_only``,
  ``query.minimal``; ``only`` (or ``query.only``) is repeated: ``only=state&only=report_id``.
- Timestamps are protobuf JSON Timestamps (RFC 3339, UTC, ``Z``). Unset strings are ``""`` (the
  proto3 default) and an absent ``error`` is ``null``; every ReportInfo field is always present
  unless ``only``/``minimal`` leave it out.
- Formats: CreateReportRequest names none; the report is made in its template's first format
  (``reportd.app.defaults``). ``storage_path`` is the file's key in its storage once finished.
  ``storage_info`` fills the StorageInfo fields reportd has (``storage_id``, ``name``,
  ``domain_id``; reportd's storages are configured by the operator, without secrets or types).
- States map one to one; ``EXPIRED`` (files deleted after retention, a state SpaceONE lacks) is
  reported as ``FAILURE`` with error ``report_expired`` unless the report already carries an error.
- Success is 200 on every call, as gRPC-gateway answers.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Final, Literal

from fastapi import Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, model_validator

from reportd.app.defaults import with_default_formats
from reportd.app.search import (
    MAX_LIMIT,
    Condition,
    ReportSearchQuery,
    equalities,
    select_fields,
)
from reportd.app.tenancy import require_own_tenant
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
from reportd.domain.states import ReportState
from reportd.entrypoints.api.auth import principal, service_of
from reportd.entrypoints.api.dialects.routing import router_with_errors
from reportd.entrypoints.api.schemas import MAX_OFFSET

State = Literal["CREATED", "IN_PROGRESS", "FAILURE", "TIMEOUT", "CANCELED", "FINISHED"]
MINIMAL_FIELDS: Final = ("report_id", "template_id", "state", "created_at")


# -- messages (the document's tables; spaceone.api.core.v1.Query for the query) -------------


class CreateReportRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    domain_id: str
    template_id: str
    name: str
    template_options: dict[str, Any] | None = None
    storage_id: str | None = None


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


class ReportError(BaseModel):
    code: str
    message: str


class StorageInfo(BaseModel):
    storage_id: str
    name: str
    domain_id: str


class ReportInfo(BaseModel):
    """For the OpenAPI document; the routes answer plain dicts so that ``only`` can drop keys."""

    domain_id: str
    report_id: str
    template_id: str
    storage_info: StorageInfo
    storage_path: str
    template_options: dict[str, Any]
    state: State
    created_by: str
    schedule_id: str
    created_at: str
    error: ReportError | None


class ReportsInfo(BaseModel):
    results: list[ReportInfo]
    total_count: int


class ReportDownloadInfo(BaseModel):
    download_url: str


class SpaceoneErrorDetail(BaseModel):
    code: str
    message: str


class SpaceoneError(BaseModel):
    detail: SpaceoneErrorDetail


# -- errors -----------------------------------------------------------------------------------


def render_error(request: Request, exc: ReportdError) -> Response:
    """Any error on these routes, as SpaceONE's REST servers send it."""
    status, code, message = _vendor_error(exc)
    headers = {}
    if isinstance(exc, RateLimited):
        headers["Retry-After"] = str(exc.retry_after)
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    body = {"detail": {"code": code, "message": message}}
    return JSONResponse(body, status_code=status, headers=headers)


def _vendor_error(exc: ReportdError) -> tuple[int, str, str]:
    if isinstance(exc, AuthenticationFailed):
        return 401, "ERROR_AUTHENTICATE_FAILURE", f"Authenticate failure. (message = {exc.message})"
    if isinstance(exc, Forbidden):
        return 403, "ERROR_PERMISSION_DENIED", f"Permission denied. ({exc.message})"
    if isinstance(exc, NotFound):
        return 400, "ERROR_NOT_FOUND", exc.message
    if isinstance(exc, ValidationError):
        return _validation_error(exc)
    if isinstance(exc, RateLimited) or exc.status in (409, 410, 416, 503):
        status = 400 if exc.status in (409, 410, 416) else exc.status
        return status, f"ERROR_{exc.code.upper()}", exc.message
    return 500, "ERROR_UNKNOWN", exc.message


def _validation_error(exc: ValidationError) -> tuple[int, str, str]:
    """A malformed request (pydantic's details name the field) or a refused argument."""
    details = exc.details
    if not (isinstance(details, list) and details and isinstance(details[0], dict)):
        return 400, "ERROR_INVALID_ARGUMENT", exc.message
    first = details[0]
    key = ".".join(str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path"))
    if first.get("message") == "Field required":
        return 400, "ERROR_REQUIRED_PARAMETER", f"Required parameter. (key = {key})"
    reason = first.get("message", "invalid")
    return 400, "ERROR_INVALID_PARAMETER", f"Parameter is invalid. (key = {key}, reason = {reason})"


router = router_with_errors(
    prefix="/report/v1", tag="dialect: SpaceONE report.v1", render_error=render_error
)
Caller = Annotated[Principal, Depends(principal)]
_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": SpaceoneError} for code in (400, 401, 403, 429, 500)
}


# -- results ----------------------------------------------------------------------------------


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


# -- routes -----------------------------------------------------------------------------------


@router.post(
    "/reports",
    operation_id="spaceone_report_create",
    response_model=None,
    responses={200: {"model": ReportInfo}, **_ERRORS},
)
def create(body: CreateReportRequest, caller: Caller, request: Request) -> dict[str, Any]:
    require_own_tenant(caller, body.domain_id)
    service = service_of(request)
    asked = ReportRequest(
        template_id=body.template_id,
        formats=(),
        name=body.name,
        options=body.template_options or {},
        storage_id=body.storage_id,
    )
    report = service.create_report(caller, with_default_formats(asked, service.templates))
    if not report.deduplicated:
        request.app.state.notify_created()
    return report_info(report)


@router.get(
    "/report/{report_id}",
    operation_id="spaceone_report_get",
    response_model=None,
    responses={200: {"model": ReportInfo}, **_ERRORS},
)
def get(
    report_id: str,
    caller: Caller,
    request: Request,
    domain_id: str,
    only: Annotated[list[str] | None, Query()] = None,
) -> dict[str, Any]:
    require_own_tenant(caller, domain_id)
    report = service_of(request).get_report(caller, report_id)
    return _shown(report, only or [], minimal=False)


@router.get(
    "/report/{report_id}/download_url",
    operation_id="spaceone_report_get_download_url",
    response_model=None,
    responses={200: {"model": ReportDownloadInfo}, **_ERRORS},
)
def get_download_url(
    report_id: str, caller: Caller, request: Request, domain_id: str
) -> dict[str, Any]:
    require_own_tenant(caller, domain_id)
    link = service_of(request).download_link(
        caller, report_id, None, base_url=str(request.base_url)
    )
    return {"download_url": link.url}


@router.get(
    "/reports",
    operation_id="spaceone_report_list",
    response_model=None,
    responses={200: {"model": ReportsInfo}, **_ERRORS},
)
def list_reports(
    caller: Caller,
    request: Request,
    domain_id: str,
    report_id: str | None = None,
    template_id: str | None = None,
    storage_id: str | None = None,
    schedule_id: str | None = None,
    created_by: str | None = None,
    state: State | None = None,
    only: Annotated[list[str] | None, Query()] = None,
    query_only: Annotated[list[str] | None, Query(alias="query.only")] = None,
    start: Annotated[int, Query(alias="query.page.start", ge=0, le=MAX_OFFSET)] = 1,
    limit: Annotated[int, Query(alias="query.page.limit", ge=0, le=MAX_OFFSET)] = 0,
    sort_key: Annotated[str | None, Query(alias="query.sort.key")] = None,
    sort_desc: Annotated[bool, Query(alias="query.sort.desc")] = False,
    keyword: Annotated[str | None, Query(alias="query.keyword")] = None,
    count_only: Annotated[bool, Query(alias="query.count_only")] = False,
    minimal: Annotated[bool, Query(alias="query.minimal")] = False,
) -> dict[str, Any]:
    """list, with ReportQuery's fields as query parameters (grpc-gateway's mapping)."""
    asked = ReportQuery(
        domain_id=domain_id,
        report_id=report_id,
        template_id=template_id,
        storage_id=storage_id,
        schedule_id=schedule_id,
        created_by=created_by,
        state=state,
        query=SpaceoneQuery(
            sort=Sort(key=sort_key, desc=sort_desc) if sort_key else None,
            page=Page(start=start, limit=limit),
            minimal=minimal,
            count_only=count_only,
            only=[*(only or []), *(query_only or [])],
            keyword=keyword,
        ),
    )
    return _list(asked, caller, request)


@router.post(
    "/reports/search",
    operation_id="spaceone_report_search",
    response_model=None,
    responses={200: {"model": ReportsInfo}, **_ERRORS},
)
def search(body: ReportQuery, caller: Caller, request: Request) -> dict[str, Any]:
    """list, with ReportQuery as the JSON body."""
    return _list(body, caller, request)


def _list(asked: ReportQuery, caller: Principal, request: Request) -> dict[str, Any]:
    require_own_tenant(caller, asked.domain_id)
    query = asked.query
    page = service_of(request).report_search.search(caller, _search_query(asked))
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
