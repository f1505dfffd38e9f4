"""Tenant ids that a request names itself (SpaceONE ``domain_id``, PingOne ``envID``).

Why a rule of its own: the caller's tenant always comes from its API key; a request that also
names a tenant must name that one, and is refused (403) otherwise, whichever dialect it used.
"""

from __future__ import annotations

from reportd.domain.errors import Forbidden
from reportd.domain.models import Principal

__all__ = ["require_own_tenant"]


def require_own_tenant(principal: Principal, tenant_id: str) -> None:
    if tenant_id != principal.tenant_id:
        raise Forbidden(f"{tenant_id!r} is not the tenant of this API key")
