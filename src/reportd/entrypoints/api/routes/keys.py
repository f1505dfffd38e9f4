"""``/v1/keys``: a tenant's API keys, for its admin keys (the console's API keys page)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from reportd.domain.models import ApiKey, Principal
from reportd.entrypoints.api.auth import core_of, principal
from reportd.entrypoints.api.schemas import ErrorBody

router = APIRouter(prefix="/v1/keys", tags=["keys"])
Caller = Annotated[Principal, Depends(principal)]
_ERRORS: dict[int | str, dict[str, object]] = {
    code: {"model": ErrorBody} for code in (400, 401, 403, 404, 413, 422)
}


class KeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    scopes: list[str] = Field(min_length=1, max_length=20)


class KeyPublic(BaseModel):
    id: str
    name: str
    scopes: list[str]
    created_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def of(cls, key: ApiKey) -> KeyPublic:
        return cls(
            id=key.id,
            name=key.name,
            scopes=sorted(key.scopes),
            created_at=key.created_at,
            revoked_at=key.revoked_at,
        )


class KeyCreated(KeyPublic):
    """The only answer that carries the key's ``secret``."""

    secret: str


class KeysPublic(BaseModel):
    results: list[KeyPublic]
    total_count: int


@router.get("", response_model=KeysPublic, responses=_ERRORS)
def list_keys(caller: Caller, request: Request) -> KeysPublic:
    found = core_of(request).keys.list(caller)
    return KeysPublic(results=[KeyPublic.of(k) for k in found], total_count=len(found))


@router.post("", status_code=201, response_model=KeyCreated, responses=_ERRORS)
def create_key(body: KeyCreate, caller: Caller, request: Request) -> KeyCreated:
    created = core_of(request).keys.create(caller, body.name, body.scopes)
    return KeyCreated(**KeyPublic.of(created.key).model_dump(), secret=created.secret)


@router.post("/{key_id}/revoke", status_code=204, responses=_ERRORS)
def revoke_key(key_id: str, caller: Caller, request: Request) -> Response:
    core_of(request).keys.revoke(caller, key_id)
    return Response(status_code=204)
