"""RateCounterRepository: counts per bucket and window; a refused request counts nowhere."""

from __future__ import annotations

import threading

from reportd.app import ports
from reportd.domain.limits import Limit
from tests.contract.records import in_threads

WINDOW = 1_700_000_040


def test_a_hit_counts_in_every_bucket_and_returns_the_counts(store: ports.Store) -> None:
    limits = [Limit("key:k1:creates", 5), Limit("tenant:t1:creates", 10)]
    assert store.rate_counters.hit(limits, WINDOW) == {
        "key:k1:creates": 1,
        "tenant:t1:creates": 1,
    }
    assert store.rate_counters.hit(limits[1:], WINDOW) == {"tenant:t1:creates": 2}
    assert store.rate_counters.counts([lim.bucket for lim in limits], WINDOW) == {
        "key:k1:creates": 1,
        "tenant:t1:creates": 2,
    }


def test_over_one_limit_nothing_is_counted(store: ports.Store) -> None:
    key, tenant = Limit("key:k1:creates", 1), Limit("tenant:t1:creates", 10)
    assert store.rate_counters.hit([key, tenant], WINDOW) is not None
    assert store.rate_counters.hit([key, tenant], WINDOW) is None
    assert store.rate_counters.counts([key.bucket, tenant.bucket], WINDOW) == {
        key.bucket: 1,
        tenant.bucket: 1,  # the refused request did not use up the tenant's
    }


def test_windows_count_apart_and_old_ones_are_purged(store: ports.Store) -> None:
    limit = Limit("tenant:t1:reads", 1)
    assert store.rate_counters.hit([limit], WINDOW) is not None
    assert store.rate_counters.hit([limit], WINDOW + 60) == {limit.bucket: 1}
    assert store.rate_counters.counts([limit.bucket, "unused"], WINDOW) == {limit.bucket: 1}
    assert store.rate_counters.purge(WINDOW + 60) == 1
    assert store.rate_counters.counts([limit.bucket], WINDOW) == {}
    assert store.rate_counters.counts([limit.bucket], WINDOW + 60) == {limit.bucket: 1}


def test_concurrent_hits_never_exceed_the_limit(store: ports.Store) -> None:
    limit = Limit("tenant:t1:creates", 7)
    allowed: list[bool] = []
    lock = threading.Lock()

    def hit(_: int) -> None:
        for _ in range(3):
            counted = store.rate_counters.hit([limit], WINDOW)
            with lock:
                allowed.append(counted is not None)

    in_threads(5, hit)
    assert allowed.count(True) == 7
    assert store.rate_counters.counts([limit.bucket], WINDOW) == {limit.bucket: 7}
