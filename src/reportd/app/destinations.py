"""Destinations: a tenant's places for finished reports (email, S3, SFTP, a webhook).

Secrets are sealed here, by the ``SecretBox`` port (``reportd.adapters.secret_box``: Fernet
with a key from the configuration), before any store sees them, and opened only by the
delivery dispatcher; the API never shows a secret again after the create call, only which
ones are set. Scopes: ``reports:read`` to see, ``reports:write`` to change (who can make a
report can say where it goes). Another tenant's destination is ``DestinationNotFound``.
"""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Protocol

from reportd.app.access import require
from reportd.app.destination_types import KINDS, HostGuard, check_settings, split_fields
from reportd.domain.destinations import Destination, DestinationType
from reportd.domain.errors import ValidationError
from reportd.domain.models import Principal, Scope

if TYPE_CHECKING:
    from reportd.app.ports import DestinationRepository

__all__ = ["MAX_DESTINATIONS", "Created", "Destinations", "SecretBox"]

MAX_DESTINATIONS = 100


class SecretBox(Protocol):
    """Seals a destination's secrets for the store, and opens them to deliver."""

    def seal(self, secrets: Mapping[str, str]) -> str: ...
    def open(self, sealed: str) -> dict[str, str]: ...


@dataclass(frozen=True, slots=True)
class Created:
    """A new destination, and the secrets reportd made for it (shown this once)."""

    destination: Destination
    generated: Mapping[str, str]


class Destinations:
    def __init__(self, *, store: DestinationRepository, box: SecretBox, guard: HostGuard) -> None:
        self._store = store
        self._box = box
        self._guard = guard

    def create(
        self,
        principal: Principal,
        type: str,
        name: str | None,
        fields: Mapping[str, Any],
    ) -> Created:
        """``fields``: the type's settings and secrets in one flat mapping, as the API takes
        them; the result carries any secret reportd generated (a webhook's), shown once."""
        require(principal, Scope.REPORTS_WRITE)
        kind = KINDS[_type(type)]
        config, secrets = split_fields(kind, fields)
        settings, sealed = check_settings(kind, config, secrets, self._guard)
        generated = {k: v for k, v in sealed.items() if k not in secrets}
        if self._store.count(principal.tenant_id) >= MAX_DESTINATIONS:
            raise ValidationError(f"a tenant has at most {MAX_DESTINATIONS} destinations")
        destination = Destination(
            id=str(uuid.uuid4()),
            tenant_id=principal.tenant_id,
            type=kind.type,
            name=_name(name, kind.type),
            config=settings,
            sealed_secrets=self._box.seal(sealed) if sealed else None,
            secret_names=tuple(sorted(sealed)),
        )
        return Created(destination=self._store.create(destination), generated=generated)

    def list(self, principal: Principal) -> builtins.list[Destination]:
        require(principal, Scope.REPORTS_READ)
        return self._store.list_for_tenant(principal.tenant_id)

    def get(self, principal: Principal, destination_id: str) -> Destination:
        require(principal, Scope.REPORTS_READ)
        return self._store.get(destination_id, principal.tenant_id)

    def update(
        self,
        principal: Principal,
        destination_id: str,
        name: str | None,
        fields: Mapping[str, Any],
    ) -> Destination:
        """Change the name, settings and secrets: given keys replace, ``null`` removes."""
        require(principal, Scope.REPORTS_WRITE)
        current = self._store.get(destination_id, principal.tenant_id)
        kind = KINDS[current.type]
        config, secrets = split_fields(kind, fields)
        merged_config = {**current.config, **config}
        kept = self._box.open(current.sealed_secrets) if current.sealed_secrets else {}
        merged_secrets = {**kept, **secrets}
        settings, sealed = check_settings(kind, merged_config, merged_secrets, self._guard)
        changed = replace(
            current,
            name=_name(name, kind.type) if name is not None else current.name,
            config=settings,
            sealed_secrets=self._box.seal(sealed) if sealed else None,
            secret_names=tuple(sorted(sealed)),
        )
        return self._store.update(changed)

    def delete(self, principal: Principal, destination_id: str) -> None:
        require(principal, Scope.REPORTS_WRITE)
        self._store.delete(destination_id, principal.tenant_id)

    def secrets_of(self, destination: Destination) -> dict[str, str]:
        """The opened secrets, for the dispatcher only (never for a door)."""
        return self._box.open(destination.sealed_secrets) if destination.sealed_secrets else {}


def _type(value: str) -> DestinationType:
    try:
        return DestinationType(value)
    except ValueError:
        raise ValidationError(
            f"type must be one of {[t.value for t in DestinationType]}", details={"type": value}
        ) from None


def _name(name: str | None, type: DestinationType) -> str:
    name = (name or "").strip() or type.value
    if len(name) > 200:
        raise ValidationError("name is at most 200 characters")
    return name
