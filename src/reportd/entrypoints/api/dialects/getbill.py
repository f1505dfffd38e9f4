"""getbill.io external API, reports: download information, Get Report, List Reports.

Over the same use cases as the native API; this module only shapes getbill's
``{error, message, data}`` envelope. The documented calls, reportd's create extension and
where this follows getbill's conventions because the document is silent (errors, timestamps,
formats): docs/dialects.md, "getbill.io".
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Any, Final, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from reportd.app.search import ReportSearchQuery, equalities
from reportd.domain.errors import (
    Forbidden,
    MissingMandatoryFields,
    ReportdError,
    ReportNotFound,
    ValidationError,
)
from reportd.domain.models import Principal, Report, ReportRequest, Template
from reportd.domain.states import ReportState
from reportd.entrypoints.api.auth import core_of, principal
from reportd.entrypoints.api.dialects.routing import router_with_errors
from reportd.entrypoints.api.problems import error_headers
from reportd.entrypoints.api.schemas import MAX_OFFSET
from reportd.entrypoints.api.token_endpoint import serve_token

ACCESS_DENIED: Final = "Access denied to this report"
MAX_LIMIT: Final = 100  # "Number of items per page (maximum 100)"
STATUSES: Final = {
    ReportState.CREATED: "pending",
    ReportState.IN_PROGRESS: "processing",
    ReportState.FINISHED: "completed",
    ReportState.FAILURE: "failed",
    ReportState.TIMEOUT: "timeout",
    ReportState.CANCELED: "canceled",
    ReportState.EXPIRED: "expired",
}
_STATES: Final = {status: state.value for state, status in STATUSES.items()}
Status = Literal["pending", "processing", "completed", "failed", "timeout", "canceled", "expired"]


# -- errors -----------------------------------------------------------------------------------


def render_error(request: Request, exc: ReportdError) -> Response:
    """The envelope with ``error: true``; a named report that is not the caller's is a 403."""
    status, message = exc.status, exc.message
    names_report = "report_id" in request.path_params
    if names_report and isinstance(exc, ReportNotFound | Forbidden):
        status, message = 403, ACCESS_DENIED
    elif isinstance(exc, Forbidden):
        message = f"Access denied: {exc.message}"
    headers = error_headers(exc, status)
    body = {"error": True, "message": message, "code": status}
    return JSONResponse(body, status_code=status, headers=headers)


router = router_with_errors(
    prefix="/external-api/v1/reports",
    tag="dialect: getbill",
    render_error=render_error,
    error_prefixes=("/external-api/v1",),
)
Caller = Annotated[Principal, Depends(principal)]


# -- messages ---------------------------------------------------------------------------------


class ErrorEnvelope(BaseModel):
    error: bool = True
    message: str
    code: int


class DownloadInformation(BaseModel):
    id: str
    filename: str
    file_size: int
    mime_type: str
    download_url: str
    expires_at: str


class DownloadEnvelope(BaseModel):
    error: bool = False
    message: str
    data: DownloadInformation


class CreateReport(BaseModel):
    model_config = ConfigDict(extra="forbid")

    template_id: str | None = Field(default=None, min_length=1, max_length=100)
    type: str | None = Field(default=None, min_length=1, max_length=100)
    name: str | None = Field(default=None, max_length=300)
    options: dict[str, Any] = Field(default_factory=dict)
    format: str | None = None
    filter: str | None = Field(default=None, max_length=10_000)


class ReportData(BaseModel):
    """*Get Report*'s ``data``, key for key."""

    id: str
    type: str
    title: str
    description: str | None
    status: str
    filename: str | None
    file_size: int | None
    mime_type: str | None
    period_from: str | None
    period_to: str | None
    generated_at: str | None
    created_at: str | None
    download_available: bool


class ReportEnvelope(BaseModel):
    error: bool = False
    message: str
    data: ReportData


class Pagination(BaseModel):
    total: int
    page: int
    limit: int
    pages: int


class ReportListEnvelope(BaseModel):
    """*List Reports*: no ``message``, as getbill's example."""

    error: bool = False
    data: list[ReportData]
    pagination: Pagination


_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorEnvelope} for code in (400, 401, 403, 404, 409, 410, 429)
}


def iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def _period(options: dict[str, Any], *names: str) -> str | None:
    for name in names:
        value = options.get(name)
        if value is not None:
            return str(value)
    return None


def report_data(report: Report, templates: Mapping[str, Template]) -> ReportData:
    template = templates.get(report.template_id)
    first = report.artifacts[0] if report.artifacts else None
    finished = report.state is ReportState.FINISHED
    options = dict(report.options)
    return ReportData(
        id=report.id,
        type=report.template_id,
        title=report.name,
        description=(template.description or None) if template is not None else None,
        status=STATUSES[report.state],
        filename=first.filename if first else None,
        file_size=first.size if first else None,
        mime_type=first.mime_type if first else None,
        period_from=_period(options, "period_from", "since"),
        period_to=_period(options, "period_to", "until"),
        generated_at=iso(report.finished_at) if finished else None,
        created_at=iso(report.created_at),
        download_available=finished and first is not None,
    )


# -- routes -----------------------------------------------------------------------------------


@router.get("/download/{report_id}", response_model=DownloadEnvelope, responses=_ERRORS)
def download_information(report_id: str, caller: Caller, request: Request) -> DownloadEnvelope:
    """Get download information for a completed report (the document's call)."""
    ttl = request.app.state.settings.dialects.getbill_link_ttl
    link = core_of(request).downloads.download_link(
        caller, report_id, None, base_url=str(request.base_url), expires_in=ttl
    )
    artifact = link.artifact
    return DownloadEnvelope(
        message="Report download information retrieved",
        data=DownloadInformation(
            id=report_id,
            filename=artifact.filename,
            file_size=artifact.size,
            mime_type=artifact.mime_type,
            download_url=link.url,
            expires_at=iso(link.expires_at) or "",
        ),
    )


@router.post("", status_code=202, response_model=ReportEnvelope, responses=_ERRORS)
def create_report(
    body: CreateReport, caller: Caller, request: Request, response: Response
) -> ReportEnvelope:
    """Queue a report (reportd's extension: getbill documents no create)."""
    core = core_of(request)
    template_id = body.template_id or body.type
    if not template_id:
        raise MissingMandatoryFields("template_id (or type) is required")
    asked = ReportRequest(
        template_id=template_id,
        formats=(body.format,) if body.format else (),
        name=body.name,
        options=body.options,
        filter=body.filter,
    )
    report = core.reports.create(caller, asked, default_format=True)
    if report.deduplicated:
        response.status_code = 200
    response.headers["Location"] = f"/external-api/v1/reports/{report.id}"
    data = report_data(report, core.catalog.templates)
    return ReportEnvelope(message="Report generation started", data=data)


@router.get("/{report_id}", response_model=ReportEnvelope, responses=_ERRORS)
def get_report(report_id: str, caller: Caller, request: Request) -> ReportEnvelope:
    """Get Report, as getbill documents it."""
    core = core_of(request)
    report = core.reports.get(caller, report_id)
    return ReportEnvelope(message="Success", data=report_data(report, core.catalog.templates))


@router.get("", response_model=ReportListEnvelope, responses=_ERRORS)
def list_reports(
    caller: Caller,
    request: Request,
    page: Annotated[int, Query(ge=1, le=MAX_OFFSET)] = 1,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 20,
    type: str | None = None,
    status: Status | None = None,
) -> ReportListEnvelope:
    """List Reports, newest first, paged as getbill documents (``page`` from 1)."""
    state = _STATES[status] if status else None
    offset = (page - 1) * limit
    if offset > MAX_OFFSET:
        raise ValidationError(f"page {page} is past the last page reportd can serve")
    query = ReportSearchQuery(
        conditions=equalities(state=state, template_id=type), offset=offset, limit=limit
    )
    core = core_of(request)
    found = core.search.search(caller, query)
    return ReportListEnvelope(
        data=[report_data(r, core.catalog.templates) for r in found.results],
        pagination=Pagination(
            total=found.total_count,
            page=page,
            limit=limit,
            pages=math.ceil(found.total_count / limit),
        ),
    )


# -- OAuth 2.0 (getbill's "Authentication" page) ------------------------------------------------

token_router = APIRouter(tags=["dialect: getbill"])
root_routers = (token_router,)


@token_router.post("/token", summary="getbill's OAuth 2.0 token endpoint")
async def token(request: Request) -> Response:
    """``grant_type=client_credentials`` (or ``refresh_token``), form-encoded, client auth in
    the body or by HTTP Basic: ``{access_token, token_type: "Bearer", expires_in: 3600,
    refresh_token, scope}``, getbill's documented answer (it documents refresh tokens)."""
    return await serve_token(request, with_refresh=True)
