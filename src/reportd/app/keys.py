"""A tenant's own API keys, managed by one of its keys with ``admin``.

Why apart from the operator's ``reportd keys`` commands: those act on any tenant from the
machine; this is the console's and the API's door, so every call is held to the caller's
tenant (another tenant's key is "not found", never "forbidden") and to the admin scope, and
a key cannot hand out a scope its tenant's admin does not hold itself (there is none above
admin, so the rule is the admin scope itself).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from reportd.domain.errors import KeyNotFound
from reportd.domain.models import ApiKey, Principal, Scope


class _Keys(Protocol):
    def list_keys(self, tenant_id: str) -> list[ApiKey]: ...


class TenantKeys:
    def __init__(
        self,
        *,
        keys: _Keys,
        create: Callable[[str, str, Sequence[str]], Any],
        revoke: Callable[[str, str | None], None],
        require: Callable[[Principal, Scope], None],
    ) -> None:
        self._keys = keys
        self._create = create
        self._revoke = revoke
        self._require = require

    def list(self, principal: Principal) -> list[ApiKey]:
        self._require(principal, Scope.ADMIN)
        return self._keys.list_keys(principal.tenant_id)

    def create(self, principal: Principal, name: str, scopes: Sequence[str]) -> Any:
        """The new key with its secret (shown once), in the caller's tenant."""
        self._require(principal, Scope.ADMIN)
        return self._create(principal.tenant_id, name, scopes)

    def revoke(self, principal: Principal, key_id: str) -> None:
        self._require(principal, Scope.ADMIN)
        if all(key.id != key_id for key in self._keys.list_keys(principal.tenant_id)):
            raise KeyNotFound(f"no key {key_id!r}")
        self._revoke(key_id, principal.tenant_id)
