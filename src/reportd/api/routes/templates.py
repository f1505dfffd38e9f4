"""Native template routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from reportd.api.auth import principal, service_of
from reportd.api.schemas import ErrorBody, TemplatePublic, TemplatesPublic
from reportd.domain.models import Principal

router = APIRouter(prefix="/v1/templates", tags=["templates"])
Caller = Annotated[Principal, Depends(principal)]
_ERRORS: dict[int | str, dict[str, object]] = {
    code: {"model": ErrorBody} for code in (401, 403, 404)
}


@router.get("", response_model=TemplatesPublic, responses=_ERRORS)
def list_templates(caller: Caller, request: Request) -> TemplatesPublic:
    found = service_of(request).list_templates(caller)
    return TemplatesPublic(results=[TemplatePublic.of(t) for t in found], total_count=len(found))


@router.get("/{template_id}", response_model=TemplatePublic, responses=_ERRORS)
def get_template(template_id: str, caller: Caller, request: Request) -> TemplatePublic:
    return TemplatePublic.of(service_of(request).get_template(caller, template_id))
