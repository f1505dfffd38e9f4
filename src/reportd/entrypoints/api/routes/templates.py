"""Native template routes: the operator's (read-only) and the tenant's own (issue 16)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Header, Path, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from reportd.domain.errors import ValidationError
from reportd.domain.models import Principal, ReportRequest
from reportd.entrypoints.api.auth import core_of, principal
from reportd.entrypoints.api.schemas import ErrorBody, TemplatePublic, TemplatesPublic

router = APIRouter(prefix="/v1/templates", tags=["templates"])
Caller = Annotated[Principal, Depends(principal)]
_ERRORS: dict[int | str, dict[str, object]] = {
    code: {"model": ErrorBody} for code in (401, 403, 404, 413)
}
_WRITE_ERRORS: dict[int | str, dict[str, object]] = {
    code: {"model": ErrorBody} for code in (400, 401, 403, 404, 409)
}
Definition = Annotated[
    dict[str, Any],
    Body(
        description=(
            "The template file's model as JSON (docs/templates.md): id, name, source, query, "
            "fields, parameters, formats, display_name, timeout, retention, pdf, csv, ..."
        ),
        examples=[
            {
                "id": "big_orders",
                "name": "Big orders",
                "source": "shop",
                "query": "SELECT order_id, amount FROM orders WHERE amount >= :floor",
                "fields": [{"name": "order_id", "type": "integer"}, {"name": "amount"}],
                "parameters": {
                    "type": "object",
                    "properties": {"floor": {"type": "number", "default": 100}},
                },
                "formats": ["csv", "json"],
            }
        ],
    ),
]


@router.get("", response_model=TemplatesPublic, responses=_ERRORS)
def list_templates(caller: Caller, request: Request) -> TemplatesPublic:
    """The operator's templates and the tenant's own (latest versions)."""
    found = core_of(request).templates.list(caller)
    return TemplatesPublic(
        results=[TemplatePublic.of_view(v) for v in found], total_count=len(found)
    )


@router.post("", response_model=TemplatePublic, status_code=201, responses=_WRITE_ERRORS)
def create_template(
    body: Definition, caller: Caller, request: Request, response: Response
) -> TemplatePublic:
    """A tenant template (scope ``templates:write``, feature ``custom_reports``), checked
    against its source: 400 ``template_invalid`` with ``details.errors[{path, message}]``,
    ``query_not_allowed``, 403 ``source_not_granted``."""
    view = core_of(request).templates.create(caller, body)
    response.headers["Location"] = f"/v1/templates/{view.template.id}"
    response.headers["ETag"] = f'"{view.version}"'
    return TemplatePublic.of_view(view)


class DefinitionValid(BaseModel):
    valid: bool = True
    columns: list[str]


@router.post("/validate", response_model=DefinitionValid, responses=_WRITE_ERRORS)
def validate_definition(body: Definition, caller: Caller, request: Request) -> DefinitionValid:
    """Check a definition as a save would, saving nothing (the console's live validation)."""
    template = core_of(request).templates.validate(caller, body)
    return DefinitionValid(columns=[f.name for f in template.fields])


@router.get("/{template_id}", response_model=TemplatePublic, responses=_ERRORS)
def get_template(
    template_id: str, caller: Caller, request: Request, response: Response
) -> TemplatePublic:
    view = core_of(request).templates.get(caller, template_id)
    if view.version is not None:
        response.headers["ETag"] = f'"{view.version}"'
    return TemplatePublic.of_view(view)


@router.get(
    "/{template_id}/versions/{version}",
    response_model=TemplatePublic,
    responses={**_ERRORS, 400: {"model": ErrorBody}},
)
def get_template_version(
    template_id: str,
    version: Annotated[int, Path(ge=1, le=2_000_000_000)],
    caller: Caller,
    request: Request,
) -> TemplatePublic:
    """One version of a tenant template, as it was saved (deleted templates' too)."""
    return TemplatePublic.of_view(core_of(request).templates.version(caller, template_id, version))


@router.patch("/{template_id}", response_model=TemplatePublic, responses=_WRITE_ERRORS)
def update_template(
    template_id: str,
    body: Definition,
    caller: Caller,
    request: Request,
    response: Response,
    if_match: Annotated[str | None, Header()] = None,
) -> TemplatePublic:
    """A JSON merge patch of the definition: a new version. ``If-Match: "N"`` (or
    ``version: N`` in the body) refuses with 409 ``version_conflict`` unless still at N;
    an operator's template is 403 ``template_read_only``."""
    view = core_of(request).templates.update(caller, template_id, body, _version(if_match))
    response.headers["ETag"] = f'"{view.version}"'
    return TemplatePublic.of_view(view)


@router.delete("/{template_id}", status_code=204, responses=_WRITE_ERRORS)
def delete_template(template_id: str, caller: Caller, request: Request) -> Response:
    """Gone for new reports; the versions old reports ran stay readable."""
    core_of(request).templates.delete(caller, template_id)
    return Response(status_code=204)


def _version(if_match: str | None) -> int | None:
    if if_match is None:
        return None
    text = if_match.strip().removeprefix("W/").strip('"')
    if not text.isdigit() or len(text) > 9:
        raise ValidationError('If-Match takes a template version, as "3"')
    return int(text)


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
