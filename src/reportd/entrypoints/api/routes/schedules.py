"""Native schedule routes: saved report definitions, run now, run history."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from reportd.domain.models import Principal
from reportd.domain.paging import MAX_PAGE
from reportd.entrypoints.api.auth import core_of, principal
from reportd.entrypoints.api.schedule_schemas import (
    ScheduleCreate,
    SchedulePublic,
    SchedulesPublic,
    ScheduleUpdate,
)
from reportd.entrypoints.api.schemas import MAX_OFFSET, ErrorBody, ReportPublic, ReportsPublic

router = APIRouter(prefix="/v1/schedules", tags=["schedules"])
Caller = Annotated[Principal, Depends(principal)]
_ERRORS: dict[int | str, dict[str, object]] = {
    code: {"model": ErrorBody} for code in (400, 401, 403, 404, 409, 413, 422, 429)
}


@router.post("", status_code=201, response_model=SchedulePublic, responses=_ERRORS)
def create_schedule(
    body: ScheduleCreate, caller: Caller, request: Request, response: Response
) -> SchedulePublic:
    schedule = core_of(request).schedules.create(caller, body.to_schedule())
    response.headers["Location"] = f"/v1/schedules/{schedule.id}"
    return SchedulePublic.of(schedule)


@router.get("", response_model=SchedulesPublic, responses=_ERRORS)
def list_schedules(
    caller: Caller,
    request: Request,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> SchedulesPublic:
    found, total = core_of(request).schedules.list(caller, limit=limit, offset=offset)
    return SchedulesPublic(results=[SchedulePublic.of(s) for s in found], total_count=total)


@router.get("/{schedule_id}", response_model=SchedulePublic, responses=_ERRORS)
def get_schedule(schedule_id: str, caller: Caller, request: Request) -> SchedulePublic:
    return SchedulePublic.of(core_of(request).schedules.get(caller, schedule_id))


@router.patch("/{schedule_id}", response_model=SchedulePublic, responses=_ERRORS)
def update_schedule(
    schedule_id: str, body: ScheduleUpdate, caller: Caller, request: Request
) -> SchedulePublic:
    updated = core_of(request).schedules.update(caller, schedule_id, body.to_changes())
    return SchedulePublic.of(updated)


@router.delete("/{schedule_id}", status_code=204, responses=_ERRORS)
def delete_schedule(schedule_id: str, caller: Caller, request: Request) -> Response:
    core_of(request).schedules.delete(caller, schedule_id)
    return Response(status_code=204)


@router.post("/{schedule_id}/run", status_code=202, response_model=ReportPublic, responses=_ERRORS)
def run_schedule(
    schedule_id: str, caller: Caller, request: Request, response: Response
) -> ReportPublic:
    report = core_of(request).schedules.run_now(caller, schedule_id)
    response.headers["Location"] = f"/v1/reports/{report.id}"
    return ReportPublic.of(report)


@router.get("/{schedule_id}/runs", response_model=ReportsPublic, responses=_ERRORS)
def schedule_runs(
    schedule_id: str,
    caller: Caller,
    request: Request,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    cursor: str | None = None,
) -> ReportsPublic:
    page = core_of(request).schedules.runs(caller, schedule_id, limit=limit, cursor=cursor)
    return ReportsPublic(
        results=[ReportPublic.of(r) for r in page.results],
        total_count=page.total_count,
        next_cursor=page.next_cursor,
    )
