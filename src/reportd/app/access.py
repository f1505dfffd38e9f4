"""Who may do what: the scope and feature checks every use case starts with.

Why one module: a scope check written in each use case (or each router) drifts; here it is
written once, and its message is the one every door shows.
"""

from __future__ import annotations

from reportd.domain.errors import FeatureNotEnabled, Forbidden
from reportd.domain.models import Principal, Scope

__all__ = ["require", "require_feature"]


def require(principal: Principal, scope: Scope) -> None:
    """``Forbidden`` unless the key holds ``scope`` (``admin`` holds every scope)."""
    if not principal.has_scope(scope):
        raise Forbidden(f"this API key lacks the {scope.value} scope")


def require_feature(principal: Principal, feature: str) -> None:
    """A tenant-level switch (e.g. ``custom_reports``), checked whatever the key's scopes."""
    if not principal.tenant.has_feature(feature):
        raise FeatureNotEnabled(f"the {feature} feature is not enabled for this tenant")
