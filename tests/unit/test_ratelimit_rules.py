"""Rate-limit rules: buckets, windows, the deciding bucket, headers; over in-memory counters."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pytest

from reportd.app.ratelimits import (
    Category,
    Decision,
    Limit,
    Policy,
    RateLimiter,
    decide,
    reset_after,
    window_start,
)
from reportd.domain.errors import RateLimited


class MemoryCounters:
    """The ``Counters`` interface in a dict: the same all-or-nothing counting as the store."""

    def __init__(self) -> None:
        self.values: dict[tuple[str, int], int] = {}

    def hit(self, limits: Sequence[Limit], window_start: int) -> Mapping[str, int] | None:
        new = {
            limit.bucket: self.values.get((limit.bucket, window_start), 0) + 1 for limit in limits
        }
        if any(new[limit.bucket] > limit.limit for limit in limits):
            return None
        for bucket, count in new.items():
            self.values[(bucket, window_start)] = count
        return new

    def counts(self, buckets: Sequence[str], window_start: int) -> Mapping[str, int]:
        return {
            b: self.values[(b, window_start)] for b in buckets if (b, window_start) in self.values
        }


@pytest.mark.parametrize(
    ("method", "category"),
    [("GET", Category.READS), ("head", Category.READS), ("POST", Category.CREATES),
     ("DELETE", Category.CREATES), ("PATCH", Category.CREATES)],
)  # fmt: skip
def test_category_follows_the_method(method: str, category: Category) -> None:
    assert Category.of_method(method) is category


def test_policy_buckets_per_tenant_and_key_and_category_in_a_fixed_order() -> None:
    policy = Policy(tenant_creates=10, key_creates=3, key_reads=5)
    assert policy.limits("acme", "k1", Category.CREATES) == [
        Limit("key:k1:creates", 3),
        Limit("tenant:acme:creates", 10),
    ]
    assert policy.limits("acme", "k1", Category.READS) == [Limit("key:k1:reads", 5)]
    assert Policy().limits("acme", "k1", Category.READS) == []


def test_windows_are_aligned_on_the_epoch_and_reset_is_at_least_a_second() -> None:
    assert window_start(1_000_059.9, 60) == 1_000_020
    assert reset_after(1_000_020.0, 60) == 60
    assert reset_after(1_000_079.5, 60) == 1
    assert reset_after(1_000_079.99, 60) == 1


def test_the_tightest_bucket_decides_and_is_reported() -> None:
    limits = [Limit("key:k:creates", 3), Limit("tenant:t:creates", 10)]
    decision = decide(limits, {"key:k:creates": 1, "tenant:t:creates": 9}, reset=30)
    assert decision == Decision(allowed=True, limit=10, remaining=1, reset_after=30)
    assert decision.headers() == {
        "RateLimit-Limit": "10",
        "RateLimit-Remaining": "1",
        "RateLimit-Reset": "30",
    }


def test_over_the_limit_is_a_rate_limited_error_with_retry_after() -> None:
    decision = decide([Limit("b", 2)], {"b": 3}, reset=17)
    assert not decision.allowed
    error = decision.error()
    assert isinstance(error, RateLimited)
    assert (error.status, error.code, error.retry_after) == (429, "rate_limited", 17)


def test_limiter_counts_until_the_limit_then_refuses_without_counting() -> None:
    counters = MemoryCounters()
    limiter = RateLimiter(Policy(window_seconds=60, key_creates=2, tenant_creates=3), counters)
    now = 6_000.0
    first = limiter.check("t", "k1", Category.CREATES, now)
    second = limiter.check("t", "k1", Category.CREATES, now)
    third = limiter.check("t", "k1", Category.CREATES, now)
    assert first is not None and (first.allowed, first.remaining) == (True, 1)
    assert second is not None and (second.allowed, second.remaining) == (True, 0)
    assert third is not None and (third.allowed, third.remaining, third.limit) == (False, 0, 2)
    # k1's refused request did not use the tenant's budget: k2 still gets the third slot
    other = limiter.check("t", "k2", Category.CREATES, now)
    assert other is not None and other.allowed and (other.limit, other.remaining) == (3, 0)
    over = limiter.check("t", "k3", Category.CREATES, now)
    assert over is not None and not over.allowed and over.limit == 3


def allowed(limiter: RateLimiter, category: Category, now: float) -> bool:
    decision = limiter.check("t", "k", category, now)
    assert decision is not None
    return decision.allowed


def test_reads_and_creates_are_counted_apart_and_windows_reset() -> None:
    limiter = RateLimiter(Policy(window_seconds=60, key_creates=1, key_reads=1), MemoryCounters())
    assert allowed(limiter, Category.CREATES, 60.0)
    assert allowed(limiter, Category.READS, 60.0)
    assert not allowed(limiter, Category.READS, 119.0)
    assert allowed(limiter, Category.READS, 120.0)


def test_a_limit_of_zero_refuses_everything() -> None:
    limiter = RateLimiter(Policy(key_creates=0), MemoryCounters())
    decision = limiter.check("t", "k", Category.CREATES, 0.0)
    assert decision is not None and not decision.allowed


def test_no_limit_configured_means_no_decision() -> None:
    assert RateLimiter(Policy(), MemoryCounters()).check("t", "k", Category.READS, 0.0) is None
