"""getbill.io external API, reports, as in seeds/004_a0209f68423855b5.txt.

The document's call: ``GET /external-api/v1/reports/download/{id}`` with
``Authorization: Bearer KEY`` (scope ``reports:read``) answers
``{"error": false, "message": "Report download information retrieved", "data": {id, filename,
file_size, mime_type, download_url, expires_at}}``; ``download_url`` is reportd's absolute
signed link (``expires`` and ``signature`` query parameters, no other credential needed) and
``expires_at`` its end. A report of another tenant (or one that does not exist: the two must
look alike) and a key without the scope get 403
``{"error": true, "message": "Access denied to this report", "code": 403}``.

These extend the document (getbill's public API has them; their bodies are not in it), in the
same envelope: ``POST /external-api/v1/reports`` (``{template_id, name?, options?, format?,
filter?}`` -> 202, the report), ``GET /external-api/v1/reports/{id}`` (status) and
``GET /external-api/v1/reports`` (``status``, ``template_id``, ``limit``, ``offset`` ->
``{reports, total, limit, offset}``). A report's ``status`` is ``pending``, ``processing``,
``completed``, ``failed``, ``timeout``, ``canceled`` or ``expired``.

Where the document is silent, this follows getbill's public conventions:

- Every error, on every route here, is the envelope ``{"error": true, "message", "code"}`` with
  ``code`` the HTTP status: 400 for a malformed or refused request (pydantic's complaint, or
  reportd's message), 401 for a missing or unknown key, 403 as above (on create and list, where
  no report is named, the message says which scope is missing), 404 for an unknown template or
  storage, 409 for a report that has not finished, 410 for one whose files have expired, 429 and
  5xx with reportd's message.
- Timestamps are ISO 8601 in UTC with ``Z``, whole seconds, as the document's ``expires_at``.
- A create that names no ``format`` gets the template's first (``reportd.app.defaults``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Final, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from reportd.app.defaults import with_default_formats
from reportd.app.search import ReportSearchQuery, equalities
from reportd.domain.errors import (
    AuthenticationFailed,
    Forbidden,
    RateLimited,
    ReportdError,
    ReportNotFound,
)
from reportd.domain.models import Principal, Report, ReportRequest
from reportd.domain.states import ReportState
from reportd.entrypoints.api.auth import principal, service_of
from reportd.entrypoints.api.dialects.routing import router_with_errors
from reportd.entrypoints.api.schemas import MAX_OFFSET
from reportd.entrypoints.api.token_endpoint import serve_token

ACCESS_DENIED: Final = "Access denied to this report"
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
    headers = {}
    if isinstance(exc, RateLimited):
        headers["Retry-After"] = str(exc.retry_after)
    if isinstance(exc, AuthenticationFailed):
        headers["WWW-Authenticate"] = "Bearer"
    body = {"error": True, "message": message, "code": status}
    return JSONResponse(body, status_code=status, headers=headers)


router = router_with_errors(
    prefix="/external-api/v1/reports", tag="dialect: getbill", render_error=render_error
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

    template_id: str = Field(min_length=1, max_length=100)
    name: str | None = Field(default=None, max_length=300)
    options: dict[str, Any] = Field(default_factory=dict)
    format: str | None = None
    filter: str | None = Field(default=None, max_length=10_000)


class ReportFile(BaseModel):
    format: str
    filename: str
    file_size: int
    mime_type: str


class ReportStatus(BaseModel):
    id: str
    name: str
    template_id: str
    status: str
    progress: float | None
    rows: int
    created_at: str | None
    completed_at: str | None
    expires_at: str | None
    error: str | None
    files: list[ReportFile]


class ReportEnvelope(BaseModel):
    error: bool = False
    message: str
    data: ReportStatus


class ReportList(BaseModel):
    reports: list[ReportStatus]
    total: int
    limit: int
    offset: int


class ReportListEnvelope(BaseModel):
    error: bool = False
    message: str
    data: ReportList


_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorEnvelope} for code in (400, 401, 403, 404, 409, 410, 429)
}


def iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def report_status(report: Report) -> ReportStatus:
    return ReportStatus(
        id=report.id,
        name=report.name,
        template_id=report.template_id,
        status=STATUSES[report.state],
        progress=report.progress.percent,
        rows=report.progress.rows,
        created_at=iso(report.created_at),
        completed_at=iso(report.finished_at),
        expires_at=iso(report.expires_at),
        error=report.error.message if report.error else None,
        files=[
            ReportFile(
                format=a.format.value, filename=a.filename, file_size=a.size, mime_type=a.mime_type
            )
            for a in report.artifacts
        ],
    )


# -- routes -----------------------------------------------------------------------------------


@router.get("/download/{report_id}", response_model=DownloadEnvelope, responses=_ERRORS)
def download_information(report_id: str, caller: Caller, request: Request) -> DownloadEnvelope:
    """Get download information for a completed report (the document's call)."""
    link = service_of(request).download_link(
        caller, report_id, None, base_url=str(request.base_url)
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
    """Queue a report (an extension of the document)."""
    service = service_of(request)
    asked = ReportRequest(
        template_id=body.template_id,
        formats=(body.format,) if body.format else (),
        name=body.name,
        options=body.options,
        filter=body.filter,
    )
    report = service.create_report(caller, with_default_formats(asked, service.templates))
    if report.deduplicated:
        response.status_code = 200
    else:
        request.app.state.notify_created()
    response.headers["Location"] = f"/external-api/v1/reports/{report.id}"
    return ReportEnvelope(message="Report generation started", data=report_status(report))


@router.get("/{report_id}", response_model=ReportEnvelope, responses=_ERRORS)
def report_status_of(report_id: str, caller: Caller, request: Request) -> ReportEnvelope:
    """A report's status (an extension of the document)."""
    report = service_of(request).get_report(caller, report_id)
    return ReportEnvelope(message="Report status retrieved", data=report_status(report))


@router.get("", response_model=ReportListEnvelope, responses=_ERRORS)
def list_reports(
    caller: Caller,
    request: Request,
    status: Status | None = None,
    template_id: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 20,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> ReportListEnvelope:
    """The caller's reports, newest first (an extension of the document)."""
    state = _STATES[status] if status else None
    query = ReportSearchQuery(
        conditions=equalities(state=state, template_id=template_id), offset=offset, limit=limit
    )
    page = service_of(request).report_search.search(caller, query)
    return ReportListEnvelope(
        message="Reports retrieved",
        data=ReportList(
            reports=[report_status(r) for r in page.results],
            total=page.total_count,
            limit=limit,
            offset=offset,
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
