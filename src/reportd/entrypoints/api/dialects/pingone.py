"""PingOne data explorations (MFA reporting), as in seeds/003_27eea77a82f209ec.txt.

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

import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Final, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator

from reportd.app.entries import EntriesPage, decode_cursor, encode_cursor
from reportd.app.tenancy import require_own_tenant
from reportd.bootstrap import App
from reportd.domain.errors import (
    FilterSyntaxError,
    ReportdError,
    ReportNotFound,
    ValidationError,
)
from reportd.domain.formats import Packaging
from reportd.domain.models import Principal, Report, ReportRequest, Template
from reportd.domain.states import ReportState
from reportd.entrypoints.api.auth import core_of, principal
from reportd.entrypoints.api.dialects.routing import router_with_errors
from reportd.entrypoints.api.problems import error_headers
from reportd.entrypoints.api.token_endpoint import serve_token

MAX_LIMIT: Final = 1000  # "limit (1-1000)"
LINK_TTL: Final = 300  # "The links in the response are only valid for five minutes."
FORMATS: Final = ("csv", "json")
_TOP_LEVEL: Final = {
    400: ("INVALID_DATA", "One or more validation errors were in the request."),
    401: ("ACCESS_FAILED", "The access token is missing, invalid or expired."),
    403: ("ACCESS_FAILED", "You do not have access to this resource."),
    404: ("NOT_FOUND", "The requested resource was not found."),
    409: ("REQUEST_FAILED", "The request failed."),
    410: ("NOT_FOUND", "The requested resource was not found."),
    422: ("INVALID_DATA", "One or more validation errors were in the request."),
    429: ("REQUEST_LIMITED", "Too many requests were sent."),
    503: ("SERVICE_UNAVAILABLE", "The service is unavailable."),
}
_UNEXPECTED: Final = ("UNEXPECTED_SERVER_ERROR", "An unexpected server error occurred.")
_STATUS: Final = {
    ReportState.CREATED: "IN_PROGRESS",
    ReportState.IN_PROGRESS: "IN_PROGRESS",
    ReportState.FINISHED: "SUCCESS",
    ReportState.FAILURE: "FAILED",
    ReportState.TIMEOUT: "FAILED",
    ReportState.CANCELED: "FAILED",
}


# -- errors ---------------------------------------------------------------------------------------


def error_body(request: Request, exc: ReportdError) -> Response:
    """PingOne's error body for any reportd error."""
    code, message = _TOP_LEVEL.get(exc.status, _UNEXPECTED)
    body: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "code": code,
        "message": f"The request could not be completed. {message}",
    }
    if exc.status == 400:
        body["details"] = _details(request, exc)
    elif exc.status == 401:
        body["details"] = [{"code": "INVALID_TOKEN", "message": exc.message}]
    headers = error_headers(exc)
    return JSONResponse(body, status_code=exc.status, headers=headers)


def _details(request: Request, exc: ReportdError) -> list[dict[str, str]]:
    """One detail per problem, each naming the request property at fault when it is known."""
    if isinstance(exc.details, list) and all(isinstance(d, dict) for d in exc.details):
        found = [_validation_detail(d) for d in exc.details if "loc" in d]
        return found or [_one(request, exc)]
    return [_one(request, exc)]


def _validation_detail(detail: dict[str, Any]) -> dict[str, str]:
    where = [str(p) for p in detail["loc"] if p != "body"]
    message = str(detail.get("message", ""))
    code = "REQUIRED_VALUE" if message.lower() == "field required" else "INVALID_VALUE"
    return {"code": code, "target": ".".join(where), "message": message}


def _one(request: Request, exc: ReportdError) -> dict[str, str]:
    detail = {"code": "INVALID_VALUE", "message": exc.message}
    target = _target(request, exc)
    if target:
        detail["target"] = target
    return detail


def _target(request: Request, exc: ReportdError) -> str | None:
    if isinstance(exc, FilterSyntaxError):
        sent = getattr(request.state, "pingone_filter", None)
        return "filter" if exc.expression == sent else "orderBy"
    if isinstance(exc.details, dict):
        if "unknown_fields" in exc.details:
            return "fields"
        target = exc.details.get("target")
        return str(target) if target else None
    return None


# -- request bodies -------------------------------------------------------------------------------


class _Ref(BaseModel):
    id: str = Field(min_length=1)


class _FieldRef(BaseModel):
    name: str = Field(min_length=1)


class _OrderRef(BaseModel):
    name: str = Field(min_length=1)
    order: Literal["ASC", "DESC", "asc", "desc"] = "ASC"


def _order_object(item: str) -> dict[str, str]:
    return {"name": item[1:], "order": "DESC"} if item.startswith("-") else {"name": item}


class DataExplorationCreate(BaseModel):
    """The document's POST body; camelCase on the wire."""

    model_config = ConfigDict(populate_by_name=True)

    template: _Ref = Field(alias="dataExplorationTemplate")
    field_refs: list[_FieldRef] | None = Field(default=None, alias="fields")
    filter: str | None = None
    order_by: list[_OrderRef] = Field(default_factory=list, alias="orderBy")
    # "If the parameter is not included, ENTRIES is used." (PingOne's Reporting page)
    deliver_as: Literal["ENTRIES", "ASYNC_FILE"] = Field(default="ENTRIES", alias="deliverAs")
    sync: bool = False  # PingOne sends the string "true"; pydantic reads it as True

    @field_validator("order_by", mode="before")
    @classmethod
    def _strings_as_objects(cls, value: Any) -> Any:
        """PingOne's ``order`` strings (``"F"``, ``"-F"``) as the object form."""
        if not isinstance(value, list):
            return value
        return [_order_object(item) if isinstance(item, str) else item for item in value]

    def order_terms(self) -> tuple[str, ...]:
        """reportd's ``["-F", "G"]``."""
        return tuple(
            f"-{item.name}" if item.order.upper() == "DESC" else item.name for item in self.order_by
        )

    def to_request(self, expires_at: datetime, zip_encryption: str) -> ReportRequest:
        if self.deliver_as == "ENTRIES":  # rows in responses: the JSON file, unpackaged
            return ReportRequest(
                template_id=self.template.id,
                formats=("json",),
                fields=None if self.field_refs is None else tuple(f.name for f in self.field_refs),
                filter=self.filter,
                order_by=self.order_terms(),
                expires_at=expires_at,
            )
        return ReportRequest(
            template_id=self.template.id,
            formats=FORMATS,
            fields=None if self.field_refs is None else tuple(f.name for f in self.field_refs),
            filter=self.filter,
            order_by=self.order_terms(),
            packaging="zip",
            zip_password=True,
            zip_encryption=zip_encryption,
            expires_at=expires_at,
        )


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
    expires_at = datetime.now(UTC) + timedelta(seconds=_expiry(request))
    request.state.pingone_filter = body.filter  # tells a bad filter from a bad orderBy
    report = core.reports.create(
        caller, body.to_request(expires_at, settings.pingone_zip_encryption)
    )
    if body.sync:
        report = core.entries.wait(caller, report.id, settings.pingone_sync_timeout)
    shown = _exploration(core, caller, report, request, sync=body.sync)
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
    env = _environment_href(request, report.tenant_id)
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
    env = _environment_href(request, report.tenant_id)
    cursor = encode_cursor(page.next_offset or 0)
    return f"{env}/dataExplorations/{report.id}/entries?limit={limit}&cursor={cursor}"


@router.get("/dataExplorations/{exploration_id}")
@router.get("/dataExplorations/{exploration_id}/", include_in_schema=False)
def get_exploration(exploration_id: str, caller: Caller, request: Request) -> dict[str, Any]:
    core = core_of(request)
    report = core.reports.get(caller, exploration_id)
    if report.state is ReportState.EXPIRED:
        raise ReportNotFound("the data exploration has expired")  # PingOne keeps them briefly
    return _exploration(core, caller, report, request)


@router.get("/dataExplorationTemplates")
def list_exploration_templates(caller: Caller, request: Request) -> dict[str, Any]:
    found = core_of(request).catalog.list_templates(caller)
    root = _environment_href(request, caller.tenant_id)
    return {
        "_links": {"self": {"href": f"{root}/dataExplorationTemplates"}},
        "_embedded": {"dataExplorationTemplates": [_template(t, request, caller) for t in found]},
        "count": len(found),
        "size": len(found),
    }


@router.get("/dataExplorationTemplates/{template_id}")
def get_exploration_template(template_id: str, caller: Caller, request: Request) -> dict[str, Any]:
    return _template(core_of(request).catalog.get_template(caller, template_id), request, caller)


# -- OAuth 2.0: PingOne's authorization server, {{authPath}}/{{envID}}/as/token -----------------

token_router = APIRouter(tags=["dialect: PingOne data explorations"])
root_routers = (token_router,)


@token_router.post("/{env_id}/as/token", summary="PingOne's token endpoint")
async def token(env_id: str, request: Request) -> Response:
    """Client credentials (body or HTTP Basic) of a client of environment ``env_id``;
    a client of another environment is ``invalid_client``. No refresh token: PingOne gives
    none for the client credentials grant."""
    return await serve_token(request, tenant_id=env_id)


# -- shapes ---------------------------------------------------------------------------------------


def _expiry(request: Request) -> int:
    return int(request.app.state.settings.dialects.pingone_expiry)


def timestamp(moment: datetime) -> str:
    """``2023-10-16T11:51:26.000Z``: UTC, milliseconds, Z, as the document's example."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _environment_href(request: Request, env_id: str) -> str:
    return f"{str(request.base_url).rstrip('/')}/v1/environments/{env_id}"


def _delivered_as(report: Report) -> str:
    """ENTRIES explorations are the unpackaged JSON file; files are zipped."""
    return "ASYNC_FILE" if report.packaging is Packaging.ZIP else "ENTRIES"


def _exploration(
    core: App,
    caller: Principal,
    report: Report,
    request: Request,
    *,
    sync: bool = False,
) -> dict[str, Any]:
    """The document's GET body, key for key and in its order."""
    env = _environment_href(request, report.tenant_id)
    created = report.created_at or datetime.now(UTC)
    status = _STATUS.get(report.state, "FAILED")
    body: dict[str, Any] = {
        "_links": {
            "self": {"href": f"{env}/dataExplorations/{report.id}"},
            "environment": {"href": env},
            "dataExplorationTemplate": {
                "href": f"{env}/dataExplorationTemplates/{report.template_id}"
            },
        },
        "id": report.id,
        "environment": {"id": report.tenant_id},
        "createdAt": timestamp(created),
        "updatedAt": timestamp(report.finished_at or report.started_at or created),
        "expiresAt": timestamp(created + timedelta(seconds=_expiry(request))),
        "fields": [{"name": name} for name in report.fields],
    }
    if report.filter is not None:
        body["filter"] = report.filter
    body["orderBy"] = [_order_item(term) for term in report.order_by]
    body["status"] = status
    body["deliverAs"] = _delivered_as(report)
    if body["deliverAs"] == "ENTRIES":
        body["_links"]["entries"] = {"href": f"{env}/dataExplorations/{report.id}/entries"}
    elif status == "SUCCESS":
        body.update(_files(core, caller, report, request))
    body["sync"] = sync
    template = core.catalog.template(report.template_id)  # the caller's own report's
    body["dataExplorationTemplate"] = {"id": template.id, "name": template.name}
    return body


def _files(core: App, caller: Principal, report: Report, request: Request) -> dict[str, Any]:
    """The password and two links, signed now: every GET gets links of its own."""
    links = {
        fmt: core.downloads.download_link(
            caller, report.id, fmt, base_url=str(request.base_url), expires_in=LINK_TTL
        ).url
        for fmt in FORMATS
    }
    return {
        "zipPassword": report.zip_password,
        "csvPresignedUrl": links["csv"],
        "jsonPresignedUrl": links["json"],
    }


def _order_item(term: str) -> dict[str, str]:
    descending = term.startswith("-") or term.lower().endswith(" desc")
    name = term.removeprefix("-").removeprefix("+").split()[0]
    return {"name": name, "order": "DESC" if descending else "ASC"}


def _template(template: Template, request: Request, caller: Principal) -> dict[str, Any]:
    env = _environment_href(request, caller.tenant_id)
    return {
        "_links": {
            "self": {"href": f"{env}/dataExplorationTemplates/{template.id}"},
            "environment": {"href": env},
        },
        "id": template.id,
        "environment": {"id": caller.tenant_id},
        "name": template.name,
        "description": template.description,
        "fields": [
            {
                "name": f.name,
                "type": f.type.value.upper(),
                "filterable": f.filterable,
                "sortable": f.sortable,
            }
            for f in template.fields
        ],
    }
