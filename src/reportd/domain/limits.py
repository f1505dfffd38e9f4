"""A rate-limit bucket and its ceiling (the rules: ``reportd.app.ratelimits``)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Limit"]


@dataclass(frozen=True, slots=True)
class Limit:
    bucket: str  # e.g. "tenant:acme:creates"
    limit: int  # requests allowed per window
