"""Rate limits per tenant and per API key, creates and reads apart; rules only, no HTTP.

Fixed windows of ``window_seconds`` aligned on the Unix epoch, so every process agrees on
which window a request falls in without talking to the others. A request is counted in
up to four buckets (``tenant:<id>:<category>`` and ``key:<id>:<category>`` of its
category) and allowed only if it fits in all of them; the counters live where every
process sees them (``reportd.adapters.db.ratelimits``: the metadata database). A refused request
is not counted, so a key that is over its own limit does not use up its tenant's.

The answer carries the IETF ``RateLimit-Limit``, ``RateLimit-Remaining`` and
``RateLimit-Reset`` fields of the most constraining bucket.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from reportd.domain.errors import RateLimited
from reportd.domain.limits import Limit

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class Category(StrEnum):
    CREATES = "creates"  # POST and every other write (cancel, delete)
    READS = "reads"

    @classmethod
    def of_method(cls, method: str) -> Category:
        return cls.READS if method.upper() in READ_METHODS else cls.CREATES


@dataclass(frozen=True, slots=True)
class Policy:
    """Requests allowed per window; None is unlimited."""

    window_seconds: int = 60
    tenant_creates: int | None = None
    tenant_reads: int | None = None
    key_creates: int | None = None
    key_reads: int | None = None

    def limits(self, tenant_id: str, key_id: str, category: Category) -> list[Limit]:
        """The buckets a request of ``category`` counts in, in a fixed (lock) order."""
        per_tenant, per_key = self._numbers(category)
        limits = []
        if per_key is not None:
            limits.append(Limit(f"key:{key_id}:{category.value}", per_key))
        if per_tenant is not None:
            limits.append(Limit(f"tenant:{tenant_id}:{category.value}", per_tenant))
        return sorted(limits, key=lambda limit: limit.bucket)

    def _numbers(self, category: Category) -> tuple[int | None, int | None]:
        if category is Category.CREATES:
            return self.tenant_creates, self.key_creates
        return self.tenant_reads, self.key_reads


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    reset_after: int  # seconds until the window ends

    def headers(self) -> dict[str, str]:
        """IETF draft-ietf-httpapi-ratelimit-headers fields; Reset is in delta-seconds."""
        return {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset_after),
        }

    def error(self) -> RateLimited:
        return RateLimited(
            f"rate limit of {self.limit} requests per window reached; "
            f"retry in {self.reset_after} s",
            retry_after=self.reset_after,
        )


class Counters(Protocol):
    """Where counts live; shared by every process that enforces the same limits."""

    def hit(self, limits: Sequence[Limit], window_start: int) -> Mapping[str, int] | None:
        """Count one request in each bucket; the new counts, or None if one went over.

        Over the limit, nothing is counted (the whole step is undone).
        """

    def counts(self, buckets: Sequence[str], window_start: int) -> Mapping[str, int]:
        """Current counts, without counting."""


def window_start(now: float, window: int) -> int:
    return int(now // window) * window


def reset_after(now: float, window: int) -> int:
    """Whole seconds until the window ends, at least 1 (a Retry-After of 0 invites a storm)."""
    return max(1, math.ceil(window_start(now, window) + window - now))


def decide(limits: Sequence[Limit], counts: Mapping[str, int], *, reset: int) -> Decision:
    """The most constraining bucket decides, and is the one the headers describe."""
    tightest = min(limits, key=lambda limit: limit.limit - counts.get(limit.bucket, 0))
    used = counts.get(tightest.bucket, 0)
    allowed = all(counts.get(limit.bucket, 0) <= limit.limit for limit in limits)
    return Decision(
        allowed=allowed,
        limit=tightest.limit,
        remaining=max(0, tightest.limit - used),
        reset_after=reset,
    )


class RateLimiter:
    """Applies a Policy over shared Counters; ``check`` is the one call a caller needs."""

    def __init__(self, policy: Policy, counters: Counters) -> None:
        self.policy = policy
        self.counters = counters

    def check(self, tenant_id: str, key_id: str, category: Category, now: float) -> Decision | None:
        """Count the request; None when no limit applies to it at all."""
        limits = self.policy.limits(tenant_id, key_id, category)
        if not limits:
            return None
        start = window_start(now, self.policy.window_seconds)
        reset = reset_after(now, self.policy.window_seconds)
        counted = self.counters.hit(limits, start)
        if counted is not None:
            return decide(limits, counted, reset=reset)
        current = self.counters.counts([limit.bucket for limit in limits], start)
        refused = decide(limits, current, reset=reset)
        return Decision(False, refused.limit, 0, refused.reset_after)
