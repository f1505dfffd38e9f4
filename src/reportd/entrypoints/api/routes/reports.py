"""Native report routes: parse, call the use case, shape the answer. No rules here."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated

import orjson
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from reportd.app.report_reads import ReportReads
from reportd.domain.errors import AuthenticationFailed
from reportd.domain.models import Principal, Report
from reportd.domain.paging import MAX_PAGE
from reportd.entrypoints.api.auth import authenticate, core_of, principal
from reportd.entrypoints.api.downloads import stream_download
from reportd.entrypoints.api.etags import NOT_MODIFIED, json_with_etag
from reportd.entrypoints.api.schemas import (
    DOWNLOAD_RESPONSES,
    DownloadUrlPublic,
    ErrorBody,
    ReportCreate,
    ReportPublic,
    ReportsPublic,
    TemplatePublic,
)

router = APIRouter(prefix="/v1/reports", tags=["reports"])
EVENT_POLL_SECONDS = 0.25  # progress reaches clients at most this late (heartbeats are 0.5 s)
KEEPALIVE_SECONDS = 15.0
# How often a stream checks its key again: a revoked key's stream ends within this.
AUTH_RECHECK_SECONDS = 2.0
Caller = Annotated[Principal, Depends(principal)]
_ERRORS: dict[int | str, dict[str, object]] = {
    code: {"model": ErrorBody} for code in (400, 401, 403, 404, 409, 410, 413, 416, 422, 429)
}


@router.post(
    "",
    status_code=202,
    response_model=ReportPublic,
    responses={**_ERRORS, 200: {"model": ReportPublic, "description": "deduplicated"}},
)
def create_report(
    body: ReportCreate,
    caller: Caller,
    request: Request,
    response: Response,
) -> ReportPublic:
    report = core_of(request).reports.create(caller, body.to_request())
    if report.deduplicated:
        response.status_code = 200  # nothing new was queued: this is the live twin
    response.headers["Location"] = f"/v1/reports/{report.id}"
    return ReportPublic.of(report)


@router.get("", response_model=ReportsPublic, responses=_ERRORS)
def list_reports(
    caller: Caller,
    request: Request,
    state: str | None = None,
    template_id: str | None = None,
    schedule_id: str | None = None,
    created_by: str | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    cursor: str | None = None,
    # 4,000 (not the body's 10,000): even in 4-byte characters it fits the server's 64 KiB URL.
    filter: Annotated[str | None, Query(max_length=4_000)] = None,
) -> ReportsPublic:
    # ``filter``: the filter language over report attributes (reportd.app.search).
    page = core_of(request).reports.list(
        caller,
        state=state,
        template_id=template_id,
        schedule_id=schedule_id,
        created_by=created_by,
        filter=filter,
        limit=limit,
        cursor=cursor,
    )
    return ReportsPublic(
        results=[ReportPublic.of(r) for r in page.results],
        total_count=page.total_count,
        next_cursor=page.next_cursor,
    )


@router.get("/{report_id}", response_model=ReportPublic, responses={**_ERRORS, **NOT_MODIFIED})
async def get_report(report_id: str, caller: Caller, request: Request) -> Response:
    """On the event loop in one statement (``app.report_reads``); ``ETag``/``If-None-Match``."""
    reads: ReportReads | None = request.app.state.report_reads
    if reads is not None:
        report = await reads.get_report(caller, report_id)
    else:  # an app over an in-memory store
        report = await run_in_threadpool(core_of(request).reports.get, caller, report_id)
    return json_with_etag(request, ReportPublic.of(report).model_dump_json().encode())


@router.post("/{report_id}/cancel", response_model=ReportPublic, responses=_ERRORS)
def cancel_report(report_id: str, caller: Caller, request: Request) -> ReportPublic:
    report = core_of(request).reports.cancel(caller, report_id)
    return ReportPublic.of(report)


class FormatAdd(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format: str = Field(min_length=1, max_length=16)


@router.post(
    "/{report_id}/formats", status_code=202, response_model=ReportPublic, responses=_ERRORS
)
def add_format(report_id: str, body: FormatAdd, caller: Caller, request: Request) -> ReportPublic:
    """Make another format of a finished report from its kept rows (template keep_data)."""
    report = core_of(request).reports.add_format(caller, report_id, body.format)
    return ReportPublic.of(report)


@router.get("/{report_id}/template", response_model=TemplatePublic, responses=_ERRORS)
def report_template(report_id: str, caller: Caller, request: Request) -> TemplatePublic:
    """The definition the report was made from: a tenant template at the version it ran
    (``template_version``), whatever was edited since; an operator's template as it is now."""
    return TemplatePublic.of_view(core_of(request).templates.of_report(caller, report_id))


@router.delete("/{report_id}", status_code=204, responses=_ERRORS)
def delete_report(report_id: str, caller: Caller, request: Request) -> Response:
    core_of(request).reports.delete(caller, report_id)
    return Response(status_code=204)


@router.get(
    "/{report_id}/download",
    responses={**_ERRORS, **DOWNLOAD_RESPONSES},
    response_class=Response,
)
def download(
    report_id: str,
    caller: Caller,
    request: Request,
    format: str | None = None,
    part: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    found = core_of(request).downloads.open_download(caller, report_id, format, part)
    return stream_download(found, request)


@router.get("/{report_id}/download_url", response_model=DownloadUrlPublic, responses=_ERRORS)
def download_url(
    report_id: str,
    caller: Caller,
    request: Request,
    format: str | None = None,
    part: Annotated[int | None, Query(ge=1)] = None,
    expires_in: Annotated[int | None, Query(ge=1, le=7 * 86_400)] = None,
) -> DownloadUrlPublic:
    link = core_of(request).downloads.download_link(
        caller,
        report_id,
        format,
        part=part,
        base_url=str(request.base_url),
        expires_in=expires_in,
    )
    return DownloadUrlPublic(
        download_url=link.url,
        expires_at=link.expires_at,
        filename=link.artifact.filename,
        file_size=link.artifact.size,
        mime_type=link.artifact.mime_type,
        sha256=link.artifact.sha256,
    )


@router.get(
    "/{report_id}/events",
    responses={**_ERRORS, 200: {"content": {"text/event-stream": {}}}},
    response_class=StreamingResponse,
)
async def events(report_id: str, caller: Caller, request: Request) -> StreamingResponse:
    reports = core_of(request).reports
    reads: ReportReads | None = request.app.state.report_reads

    async def read() -> Report:  # each poll on the loop, one statement (no thread per stream)
        if reads is not None:
            return await reads.get_report(caller, report_id)
        return await run_in_threadpool(reports.get, caller, report_id)

    first = await read()

    async def stream() -> AsyncIterator[bytes]:
        report, last, sequence, quiet, unchecked = first, None, 0, 0.0, 0.0
        while True:
            public = ReportPublic.of(report)
            snapshot = (public.state, public.progress.rows, public.progress.total_rows)
            if snapshot != last:
                sequence += 1
                data = orjson.dumps(public.model_dump(mode="json")).decode()
                yield f"id: {sequence}\nevent: report\ndata: {data}\n\n".encode()
                last, quiet = snapshot, 0.0
            elif quiet >= KEEPALIVE_SECONDS:  # a comment, so proxies keep a quiet stream open
                yield b": keep-alive\n\n"
                quiet = 0.0
            if report.state.is_final or await request.is_disconnected():
                return
            await asyncio.sleep(EVENT_POLL_SECONDS)
            quiet += EVENT_POLL_SECONDS
            unchecked += EVENT_POLL_SECONDS
            if unchecked >= AUTH_RECHECK_SECONDS:  # a key revoked meanwhile ends the stream
                unchecked = 0.0
                try:
                    await authenticate(request)
                except AuthenticationFailed as exc:
                    data = orjson.dumps({"error": exc.to_dict()}).decode()
                    yield f"event: error\ndata: {data}\n\n".encode()
                    return
            report = await read()

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
