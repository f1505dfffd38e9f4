"""PingOne data explorations (MFA reporting), as in PingOne's data exploration document.

``POST /v1/environments/{envID}/dataExplorations`` (``deliverAs: ASYNC_FILE``) makes a
report of CSV and JSON, each zipped under one generated password;
``GET .../dataExplorations/{id}`` (also with the document's trailing slash) polls it and, once
``SUCCESS``, hands out ``zipPassword`` and two signed links valid five minutes, signed afresh
on every GET. ``expiresAt`` is ``createdAt`` plus ``[dialects] pingone_expiry`` (the
document's 30 minutes) and the files really go then: the report is created with that absolute
expiry. ``filter`` is reportd's filter language, which is PingOne's SCIM-like grammar.
``envID`` is the caller's tenant. Bearer auth.

Where the document is silent, this follows PingOne's public conventions:

- Errors everywhere on these routes (authentication and body validation included) are PingOne's
  ``{"id", "code", "message", "details": [{"code", "target", "message"}]}``
  (developer.pingidentity.com, "Error codes"): 400 ``INVALID_DATA`` with ``INVALID_VALUE`` or
  ``REQUIRED_VALUE`` details naming the ``target`` (a bad filter carries reportd's message with
  the error's position), 401 and 403 ``ACCESS_FAILED`` (403 also for an ``envID`` other than the
  caller's), 404 ``NOT_FOUND``, 429 ``REQUEST_LIMITED``, 5xx ``UNEXPECTED_SERVER_ERROR`` or
  ``SERVICE_UNAVAILABLE``. The top-level messages are PingOne's generic ones; reportd's own
  message goes into ``details``.
- ``orderBy`` is a list whose items are ``{"name": F, "order": "ASC"|"DESC"}`` (the shape of
  ``fields``) or PingOne's ``order`` query-parameter strings (``"F"``, ``"-F"``); GET answers
  with the object form. The document's example, ``[]``, is both.
- POST answers 201 with the same body as GET (PingOne creates with 201).
- ``deliverAs`` is ``ENTRIES`` when omitted, as PingOne's Reporting page says: the rows come
  as entries, ``GET .../dataExplorations/{id}/entries`` (``limit`` 1-1000, ``cursor``), a HAL
  page ``{_links: {self, next}, _embedded: {entries: [...]}, count, size}`` with a ``next``
  link while rows remain (PingOne's paging conventions; the entries body itself is not in the
  pages reportd could read, so its keys are PingOne's usual collection keys). ``sync: "true"``
  makes the create wait (``[dialects] pingone_sync_timeout``, 60 s) and ``?expand=entries``
  (which needs ``sync``) returns the first page in the create's response. ``ASYNC_FILE`` is the
  document's zipped CSV and JSON. ``sync`` shows what the create asked; later GETs show false
  (reportd keeps no record of it).
- The zips' cipher is ``[dialects] pingone_zip_encryption``: PingOne's pages name none, and
  these files are for people, so ZipCrypto (Windows Explorer, ``unzip -P``) by default.
- ``status``: ``IN_PROGRESS`` while queued or running, ``SUCCESS``, ``FAILED`` for a failure, a
  timeout or a cancel; an expired exploration is gone (404 ``NOT_FOUND``), as PingOne keeps them
  "only for a short time". ``zipPassword`` and the links appear only with ``SUCCESS``.
- Template ids are reportd template ids (a template may be named by a UUID such as the
  document's ``db632bfd-...``); the templates list is PingOne's HAL collection
  ``{_links, _embedded: {dataExplorationTemplates: [...]}, count, size}``.
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
