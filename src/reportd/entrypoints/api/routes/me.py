"""``GET /v1/me``: who the API key is (tenant, key name, scopes, tenant features).

The console uses it to sign in and to show only the actions the key's scopes allow.
It needs no scope: every valid key may learn about itself, and nothing else.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from reportd.domain.models import Principal
from reportd.entrypoints.api.auth import principal
from reportd.entrypoints.api.schemas import ErrorBody

router = APIRouter(prefix="/v1/me", tags=["me"])
Caller = Annotated[Principal, Depends(principal)]


class MePublic(BaseModel):
    tenant_id: str
    key_name: str
    scopes: list[str]
    features: list[str]

    @classmethod
    def of(cls, caller: Principal) -> MePublic:
        return cls(
            tenant_id=caller.tenant_id,
            key_name=caller.name,
            scopes=sorted(caller.scopes),
            features=sorted(caller.tenant.features),
        )


@router.get("", response_model=MePublic, responses={401: {"model": ErrorBody}})
def whoami(caller: Caller) -> MePublic:
    return MePublic.of(caller)
