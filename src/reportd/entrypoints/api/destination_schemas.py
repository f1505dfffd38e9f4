"""Wire models of the destination routes: a flat body, ``{"type": ..., "name": ..., ...}``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from reportd.domain.destinations import Destination


class DestinationCreate(BaseModel):
    """``type``, ``name``, and the type's settings and secrets (docs/delivery.md); the use
    case checks them, so only the shape is here."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(min_length=1, max_length=16)
    name: str | None = Field(default=None, max_length=200)

    def fields(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class DestinationUpdate(BaseModel):
    model_config = ConfigDict(extra="allow")

    name: str | None = Field(default=None, max_length=200)

    def fields(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class DestinationPublic(BaseModel):
    """A destination as the API shows it: settings, and the names of its secrets only."""

    model_config = ConfigDict(extra="allow")

    id: str
    type: str
    name: str
    secrets_set: list[str]
    created_at: datetime | None
    updated_at: datetime | None

    @classmethod
    def of(cls, destination: Destination) -> DestinationPublic:
        return cls(
            **dict(destination.config),
            id=destination.id,
            type=destination.type.value,
            name=destination.name,
            secrets_set=list(destination.secret_names),
            created_at=destination.created_at,
            updated_at=destination.updated_at,
        )


class DestinationCreated(DestinationPublic):
    """The create call's answer: also any secret reportd generated (a webhook's ``secret``),
    shown this once."""

    generated_secrets: dict[str, str] = Field(default_factory=dict)


class DestinationsPublic(BaseModel):
    results: list[DestinationPublic]
    total_count: int
