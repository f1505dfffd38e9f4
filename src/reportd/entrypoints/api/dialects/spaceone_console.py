"""Cloudforet console-api's form of SpaceONE report.v1: ``POST /report/report/{verb}``.

Each verb is one call of ``reportd.entrypoints.spaceone_wire`` (as the REST binding and the
gRPC door); this module only reads the JSON body and renders console-api's error body
(``{"error": {"message", "code"}}``). Its conventions and deviations: docs/dialects.md,
"Cloudforet console-api's form".
"""

from __future__ import annotations

from typing import Annotated, Any, Final

from fastapi import Depends, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from reportd.domain.errors import ReportdError
from reportd.domain.models import Principal
from reportd.entrypoints import spaceone_wire as wire
from reportd.entrypoints.api.auth import core_of, principal
from reportd.entrypoints.api.dialects.routing import router_with_errors
from reportd.entrypoints.api.problems import error_headers

HTTP_STATUS: Final = {  # console-api's grpc-error.ts, for the statuses SpaceONE errors have
    "INVALID_ARGUMENT": 400,
    "FAILED_PRECONDITION": 400,
    "UNAUTHENTICATED": 401,
    "PERMISSION_DENIED": 403,
    "RESOURCE_EXHAUSTED": 429,
    "UNAVAILABLE": 503,
    "INTERNAL": 500,
}


class ConsoleErrorDetail(BaseModel):
    message: str
    code: str


class ConsoleError(BaseModel):
    error: ConsoleErrorDetail


def render_error(request: Request, exc: ReportdError) -> Response:
    """Any error on these routes, as console-api's default error handler sends it."""
    fault = wire.fault_of(exc)
    status = HTTP_STATUS[fault.status]
    body = {"error": {"message": fault.message, "code": fault.code}}
    return JSONResponse(body, status_code=status, headers=error_headers(exc, status))


router = router_with_errors(
    prefix="/report/report", tag="dialect: SpaceONE console-api", render_error=render_error
)
Caller = Annotated[Principal, Depends(principal)]
_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ConsoleError} for code in (400, 401, 403, 429, 500)
}


@router.post("/create", operation_id="spaceone_console_report_create", responses=_ERRORS)
def create(body: wire.CreateReportRequest, caller: Caller, request: Request) -> dict[str, Any]:
    report = wire.create(core_of(request), caller, body)
    return wire.report_info(report)


@router.post("/get", operation_id="spaceone_console_report_get", responses=_ERRORS)
def get(body: wire.GetReportRequest, caller: Caller, request: Request) -> dict[str, Any]:
    return wire.get(core_of(request), caller, body.domain_id, body.report_id, body.only)


@router.post(
    "/get_download_url", operation_id="spaceone_console_report_get_download_url", responses=_ERRORS
)
def get_download_url(
    body: wire.GetDownloadURLRequest, caller: Caller, request: Request
) -> dict[str, Any]:
    core = core_of(request)
    base_url = str(request.base_url)
    return wire.get_download_url(core, caller, body.domain_id, body.report_id, base_url)


@router.post("/list", operation_id="spaceone_console_report_list", responses=_ERRORS)
def list_reports(body: wire.ReportQuery, caller: Caller, request: Request) -> dict[str, Any]:
    return wire.list_reports(core_of(request), caller, body)
