"""Native template routes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from reportd.domain.models import Principal, ReportRequest
from reportd.entrypoints.api.auth import core_of, principal
from reportd.entrypoints.api.schemas import ErrorBody, TemplatePublic, TemplatesPublic

router = APIRouter(prefix="/v1/templates", tags=["templates"])
Caller = Annotated[Principal, Depends(principal)]
_ERRORS: dict[int | str, dict[str, object]] = {
    code: {"model": ErrorBody} for code in (401, 403, 404, 413)
}


@router.get("", response_model=TemplatesPublic, responses=_ERRORS)
def list_templates(caller: Caller, request: Request) -> TemplatesPublic:
    found = core_of(request).catalog.list_templates(caller)
    return TemplatesPublic(results=[TemplatePublic.of(t) for t in found], total_count=len(found))


@router.get("/{template_id}", response_model=TemplatePublic, responses=_ERRORS)
def get_template(template_id: str, caller: Caller, request: Request) -> TemplatePublic:
    return TemplatePublic.of(core_of(request).catalog.get_template(caller, template_id))


class QueryValidate(BaseModel):
    """A filter, an order and options to check against a template before a create."""

    model_config = ConfigDict(extra="forbid")

    filter: str | None = Field(default=None, max_length=10_000)
    order_by: list[str] = Field(default_factory=list)
    options: dict[str, Any] | None = None


class QueryValid(BaseModel):
    valid: bool = True


@router.post(
    "/{template_id}/validate",
    response_model=QueryValid,
    responses={**_ERRORS, 400: {"model": ErrorBody}},
)
def validate_query(
    template_id: str, body: QueryValidate, caller: Caller, request: Request
) -> QueryValid:
    """200 ``{"valid": true}``, or the error a create would give (``details.position``)."""
    core_of(request).catalog.validate_query(
        caller, template_id, body.filter, body.order_by, body.options
    )
    return QueryValid()


class PreviewAsk(QueryValidate):
    """What a report would be made of: its options, fields, filter and order."""

    fields: list[str] | None = Field(default=None, max_length=500)


class PreviewPublic(BaseModel):
    template_id: str
    fields: list[str]
    rows: list[dict[str, Any]]
    row_count: int | None
    limit: int


@router.post(
    "/{template_id}/preview",
    response_model=PreviewPublic,
    responses={**_ERRORS, 400: {"model": ErrorBody}, 422: {"model": ErrorBody}},
)
def preview(template_id: str, body: PreviewAsk, caller: Caller, request: Request) -> PreviewPublic:
    """The first 50 rows and the row count a report with these options and filter would have."""
    ask = ReportRequest(
        template_id=template_id,
        formats=(),
        options=body.options or {},
        fields=tuple(body.fields) if body.fields else None,
        filter=body.filter,
        order_by=tuple(body.order_by),
    )
    found = core_of(request).preview.preview(caller, ask)
    return PreviewPublic(
        template_id=found.template_id,
        fields=list(found.fields),
        rows=found.rows,
        row_count=found.row_count,
        limit=found.limit,
    )
