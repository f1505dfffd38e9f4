"""PingOne data explorations (MFA reporting): the routes and PingOne's token endpoint.

Each route is one call of a use case (``reports``, ``entries``, ``catalog``); the request body,
the error body and the exploration's shape are ``pingone_wire``. What the document fixes
(``deliverAs``, ``zipPassword``, links valid five minutes and signed afresh on every GET,
``expiresAt``) and where this follows PingOne's conventions because the document is silent
(errors, ``orderBy``, ``ENTRIES`` paging, ``sync``, the zips' cipher, statuses, templates):
docs/dialects.md, "PingOne".
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response

from reportd.app.entries import EntriesPage, decode_cursor, encode_cursor
from reportd.app.tenancy import require_own_tenant
from reportd.domain.errors import ReportNotFound, ValidationError
from reportd.domain.models import Principal, Report
from reportd.domain.states import ReportState
from reportd.entrypoints.api.auth import core_of, principal
from reportd.entrypoints.api.dialects.pingone_wire import (
    MAX_LIMIT,
    DataExplorationCreate,
    environment_href,
    error_body,
    expiry_seconds,
    exploration,
    template_body,
)
from reportd.entrypoints.api.dialects.routing import router_with_errors
from reportd.entrypoints.api.token_endpoint import serve_token

# -- routes ---------------------------------------------------------------------------------------

router = router_with_errors(
    prefix="/v1/environments/{env_id}",
    tag="dialect: PingOne data explorations",
    render_error=error_body,
    error_prefixes=("/v1/environments",),
)


def environment_caller(env_id: str, caller: Annotated[Principal, Depends(principal)]) -> Principal:
    """The caller, who must be asking about its own environment (tenant)."""
    require_own_tenant(caller, env_id)
    return caller


Caller = Annotated[Principal, Depends(environment_caller)]


Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]


@router.post("/dataExplorations", status_code=201)
def create_exploration(
    body: DataExplorationCreate,
    caller: Caller,
    request: Request,
    expand: str | None = None,
    limit: Limit = MAX_LIMIT,
) -> dict[str, Any]:
    """Create; ``sync: "true"`` waits for the result, ``?expand=entries`` (which needs ``sync``
    and ``ENTRIES``) also returns the first page of entries."""
    if expand not in (None, "entries"):
        raise ValidationError("expand takes only 'entries'", details={"target": "expand"})
    if expand and not (body.sync and body.deliver_as == "ENTRIES"):
        raise ValidationError(
            "expand=entries needs sync true and deliverAs ENTRIES", details={"target": "sync"}
        )
    core = core_of(request)
    settings = request.app.state.settings.dialects
    expires_at = datetime.now(UTC) + timedelta(seconds=expiry_seconds(request))
    request.state.pingone_filter = body.filter  # tells a bad filter from a bad orderBy
    report = core.reports.create(
        caller, body.to_request(expires_at, settings.pingone_zip_encryption)
    )
    if body.sync:
        report = core.entries.wait(caller, report.id, settings.pingone_sync_timeout)
    shown = exploration(core, caller, report, request, sync=body.sync)
    if expand and shown["status"] == "SUCCESS":
        page = core.entries.page(caller, report.id, 0, limit)
        shown["_embedded"] = {"entries": page.entries}
        if page.next_offset is not None:
            shown["_links"]["next"] = {"href": _entries_href(request, report, page, limit)}
    return shown


@router.get("/dataExplorations/{exploration_id}/entries")
def list_entries(
    exploration_id: str,
    caller: Caller,
    request: Request,
    limit: Limit = MAX_LIMIT,
    cursor: str | None = None,
) -> dict[str, Any]:
    """One page of a finished ENTRIES exploration's rows; ``_links.next`` while more remain."""
    core = core_of(request)
    report = core.reports.get(caller, exploration_id)
    if report.state is ReportState.EXPIRED:
        raise ReportNotFound("the data exploration has expired")
    page = core.entries.page(caller, exploration_id, decode_cursor(cursor), limit)
    env = environment_href(request, report.tenant_id)
    self_href = f"{env}/dataExplorations/{report.id}/entries?limit={limit}"
    if cursor:
        self_href += f"&cursor={cursor}"
    links: dict[str, Any] = {"self": {"href": self_href}}
    if page.next_offset is not None:
        links["next"] = {"href": _entries_href(request, report, page, limit)}
    return {
        "_links": links,
        "_embedded": {"entries": page.entries},
        "count": page.total,
        "size": len(page.entries),
    }


def _entries_href(request: Request, report: Report, page: EntriesPage, limit: int) -> str:
    env = environment_href(request, report.tenant_id)
    cursor = encode_cursor(page.next_offset or 0)
    return f"{env}/dataExplorations/{report.id}/entries?limit={limit}&cursor={cursor}"


@router.get("/dataExplorations/{exploration_id}")
@router.get("/dataExplorations/{exploration_id}/", include_in_schema=False)
def get_exploration(exploration_id: str, caller: Caller, request: Request) -> dict[str, Any]:
    core = core_of(request)
    report = core.reports.get(caller, exploration_id)
    if report.state is ReportState.EXPIRED:
        raise ReportNotFound("the data exploration has expired")  # PingOne keeps them briefly
    return exploration(core, caller, report, request)


@router.get("/dataExplorationTemplates")
def list_exploration_templates(caller: Caller, request: Request) -> dict[str, Any]:
    found = core_of(request).catalog.list_templates(caller)
    root = environment_href(request, caller.tenant_id)
    return {
        "_links": {"self": {"href": f"{root}/dataExplorationTemplates"}},
        "_embedded": {
            "dataExplorationTemplates": [template_body(t, request, caller) for t in found]
        },
        "count": len(found),
        "size": len(found),
    }


@router.get("/dataExplorationTemplates/{template_id}")
def get_exploration_template(template_id: str, caller: Caller, request: Request) -> dict[str, Any]:
    return template_body(
        core_of(request).catalog.get_template(caller, template_id), request, caller
    )


# -- OAuth 2.0: PingOne's authorization server, {{authPath}}/{{envID}}/as/token -----------------

token_router = APIRouter(tags=["dialect: PingOne data explorations"])
root_routers = (token_router,)


@token_router.post("/{env_id}/as/token", summary="PingOne's token endpoint")
async def token(env_id: str, request: Request) -> Response:
    """Client credentials (body or HTTP Basic) of a client of environment ``env_id``;
    a client of another environment is ``invalid_client``. No refresh token: PingOne gives
    none for the client credentials grant."""
    return await serve_token(request, tenant_id=env_id)
