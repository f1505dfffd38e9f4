"""Destination routes: parse, call the destinations use case, shape the answer."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from reportd.domain.models import Principal
from reportd.entrypoints.api.auth import core_of, principal
from reportd.entrypoints.api.destination_schemas import (
    DestinationCreate,
    DestinationCreated,
    DestinationPublic,
    DestinationsPublic,
    DestinationUpdate,
)
from reportd.entrypoints.api.schemas import ErrorBody

router = APIRouter(prefix="/v1/destinations", tags=["destinations"])
Caller = Annotated[Principal, Depends(principal)]
_ERRORS: dict[int | str, dict[str, object]] = {
    code: {"model": ErrorBody} for code in (400, 401, 403, 404, 413, 422, 429)
}


@router.post("", status_code=201, response_model=DestinationCreated, responses=_ERRORS)
def create_destination(
    body: DestinationCreate, caller: Caller, request: Request, response: Response
) -> DestinationCreated:
    created = core_of(request).destinations.create(caller, body.type, body.name, body.fields())
    response.headers["Location"] = f"/v1/destinations/{created.destination.id}"
    public = DestinationPublic.of(created.destination).model_dump()
    return DestinationCreated(**public, generated_secrets=dict(created.generated))


@router.get("", response_model=DestinationsPublic, responses=_ERRORS)
def list_destinations(caller: Caller, request: Request) -> DestinationsPublic:
    found = core_of(request).destinations.list(caller)
    return DestinationsPublic(
        results=[DestinationPublic.of(d) for d in found], total_count=len(found)
    )


@router.get("/{destination_id}", response_model=DestinationPublic, responses=_ERRORS)
def get_destination(destination_id: str, caller: Caller, request: Request) -> DestinationPublic:
    return DestinationPublic.of(core_of(request).destinations.get(caller, destination_id))


@router.patch("/{destination_id}", response_model=DestinationPublic, responses=_ERRORS)
def update_destination(
    destination_id: str, body: DestinationUpdate, caller: Caller, request: Request
) -> DestinationPublic:
    changed = core_of(request).destinations.update(caller, destination_id, body.name, body.fields())
    return DestinationPublic.of(changed)


@router.delete("/{destination_id}", status_code=204, responses=_ERRORS)
def delete_destination(destination_id: str, caller: Caller, request: Request) -> Response:
    core_of(request).destinations.delete(caller, destination_id)
    return Response(status_code=204)
