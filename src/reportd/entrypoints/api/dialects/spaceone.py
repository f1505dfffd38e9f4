"""SpaceONE (Cloudforet) ``spaceone.api.report.v1`` Report over REST.

The REST binding of ``reportd.entrypoints.spaceone_wire`` (shared with the gRPC door): this
module only declares the messages' REST models (for OpenAPI), reads grpc-gateway's request
forms and renders SpaceONE's REST error body. What
is REST's own (errors, query parameters, timestamps, statuses) is in docs/dialects.md,
"SpaceONE, over REST"; the console-api form is ``spaceone_console.py``, served by this
dialect's ``router`` too.
"""

from __future__ import annotations

from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from reportd.domain.errors import MethodNotAllowed, ReportdError, RouteNotFound
from reportd.domain.models import Principal
from reportd.entrypoints import spaceone_wire as wire
from reportd.entrypoints.api.auth import core_of, principal
from reportd.entrypoints.api.dialects.routing import router_with_errors
from reportd.entrypoints.api.dialects.spaceone_console import router as console_router
from reportd.entrypoints.api.problems import error_headers
from reportd.entrypoints.api.schemas import MAX_OFFSET
from reportd.entrypoints.spaceone_wire import (
    CreateReportRequest,
    Page,
    ReportQuery,
    Sort,
    SpaceoneFault,
    SpaceoneQuery,
    State,
    fault_of,
)

# -- response models (for the OpenAPI document) ---------------------------------------------


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

HTTP_STATUS: Final = {  # grpc-gateway's HTTP status for each gRPC status a SpaceONE error has
    "INVALID_ARGUMENT": 400,
    "FAILED_PRECONDITION": 400,
    "UNAUTHENTICATED": 401,
    "PERMISSION_DENIED": 403,
    "RESOURCE_EXHAUSTED": 429,
    "UNAVAILABLE": 503,
    "INTERNAL": 500,
}


def render_error(request: Request, exc: ReportdError) -> Response:
    """Any error on these routes, as SpaceONE's REST servers send it."""
    fault = fault_of(exc)
    status = HTTP_STATUS[fault.status]
    if isinstance(exc, RouteNotFound | MethodNotAllowed):  # grpc-gateway's own statuses
        status = exc.status
        fault = SpaceoneFault(fault.status, f"ERROR_{exc.code.upper()}", exc.message)
    headers = error_headers(exc, status)
    body = {"detail": {"code": fault.code, "message": fault.message}}
    return JSONResponse(body, status_code=status, headers=headers)


rest = router_with_errors(
    prefix="/report/v1", tag="dialect: SpaceONE report.v1", render_error=render_error
)
Caller = Annotated[Principal, Depends(principal)]
_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": SpaceoneError} for code in (400, 401, 403, 429, 500)
}


# -- routes -----------------------------------------------------------------------------------


@rest.post(
    "/reports",
    operation_id="spaceone_report_create",
    response_model=None,
    responses={200: {"model": ReportInfo}, **_ERRORS},
)
def create(body: CreateReportRequest, caller: Caller, request: Request) -> dict[str, Any]:
    report = wire.create(core_of(request), caller, body)
    return wire.report_info(report)


@rest.get(
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
    return wire.get(core_of(request), caller, domain_id, report_id, only or [])


@rest.get(
    "/report/{report_id}/download_url",
    operation_id="spaceone_report_get_download_url",
    response_model=None,
    responses={200: {"model": ReportDownloadInfo}, **_ERRORS},
)
def get_download_url(
    report_id: str, caller: Caller, request: Request, domain_id: str
) -> dict[str, Any]:
    core = core_of(request)
    return wire.get_download_url(core, caller, domain_id, report_id, str(request.base_url))


@rest.get(
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
    return wire.list_reports(core_of(request), caller, asked)


@rest.post(
    "/reports/search",
    operation_id="spaceone_report_search",
    response_model=None,
    responses={200: {"model": ReportsInfo}, **_ERRORS},
)
def search(body: ReportQuery, caller: Caller, request: Request) -> dict[str, Any]:
    """list, with ReportQuery as the JSON body."""
    return wire.list_reports(core_of(request), caller, body)


router = APIRouter()  # what the dialect registry serves: REST, and the console-api form
router.include_router(rest)
router.include_router(console_router)
dialect_routers = (rest, console_router)  # whose prefixes' errors are SpaceONE's (routing.py)
