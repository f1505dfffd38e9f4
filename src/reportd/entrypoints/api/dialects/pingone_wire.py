"""PingOne data exploration shapes: request bodies in, explorations, templates and errors out.

Translation only (``pingone.py`` has the routes and says which document each shape follows):
PingOne's camelCase body becomes a ``ReportRequest``, a report becomes the document's
exploration body key for key, and a reportd error becomes PingOne's error body.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Literal

from fastapi import Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator

from reportd.bootstrap import App
from reportd.domain.errors import FilterSyntaxError, ReportdError
from reportd.domain.formats import Packaging
from reportd.domain.models import Principal, Report, ReportRequest, Template
from reportd.domain.states import ReportState
from reportd.entrypoints.api.problems import error_headers

__all__ = [
    "FORMATS",
    "LINK_TTL",
    "MAX_LIMIT",
    "DataExplorationCreate",
    "environment_href",
    "error_body",
    "expiry_seconds",
    "exploration",
    "template_body",
    "timestamp",
]

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


# -- shapes ---------------------------------------------------------------------------------------


def expiry_seconds(request: Request) -> int:
    return int(request.app.state.settings.dialects.pingone_expiry)


def timestamp(moment: datetime) -> str:
    """``2023-10-16T11:51:26.000Z``: UTC, milliseconds, Z, as the document's example."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def environment_href(request: Request, env_id: str) -> str:
    return f"{str(request.base_url).rstrip('/')}/v1/environments/{env_id}"


def _delivered_as(report: Report) -> str:
    """ENTRIES explorations are the unpackaged JSON file; files are zipped."""
    return "ASYNC_FILE" if report.packaging is Packaging.ZIP else "ENTRIES"


def exploration(
    core: App,
    caller: Principal,
    report: Report,
    request: Request,
    *,
    sync: bool = False,
) -> dict[str, Any]:
    """The document's GET body, key for key and in its order."""
    env = environment_href(request, report.tenant_id)
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
        "expiresAt": timestamp(created + timedelta(seconds=expiry_seconds(request))),
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
    template = core.catalog.of_report(report)  # the caller's own report's
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


def template_body(template: Template, request: Request, caller: Principal) -> dict[str, Any]:
    env = environment_href(request, caller.tenant_id)
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
