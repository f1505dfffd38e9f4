"""IdempotencyRepository: of many first requests one runs; answers kept byte for byte."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from reportd.app import idempotency as rules
from reportd.app import ports
from reportd.domain.idempotency import IdempotencyRecord, StoredResponse
from tests.contract.records import in_threads, now

SCOPE = rules.credential_scope("rk_contract")


def record(key: str, *, body: bytes = b"{}", at: datetime | None = None) -> IdempotencyRecord:
    return IdempotencyRecord(
        scope=SCOPE,
        key=key,
        method="POST",
        path="/v1/reports",
        request_hash=rules.fingerprint("POST", "/v1/reports", body),
        created_at=at or now(),
    )


def test_only_one_of_many_concurrent_claims_wins(store: ports.Store) -> None:
    held: list[IdempotencyRecord | None] = []
    lock = threading.Lock()

    def claim(_: int) -> None:
        got = store.idempotency.claim(record("race"))
        with lock:
            held.append(got)

    in_threads(8, claim)
    assert held.count(None) == 1
    assert all(h.response is None and h.key == "race" for h in held if h is not None)


def test_a_completed_answer_is_kept_byte_for_byte(store: ports.Store) -> None:
    first = record("done")
    assert store.idempotency.claim(first) is None
    answer = StoredResponse(201, (("location", "/x"), ("content-type", "a/b")), b"\x00\xffbody")
    store.idempotency.complete(SCOPE, "done", answer)
    held = store.idempotency.claim(record("done"))
    assert held is not None
    assert held.response == answer
    assert held.request_hash == first.request_hash
    assert store.idempotency.get(SCOPE, "done") == held


def test_keys_are_per_scope(store: ports.Store) -> None:
    assert store.idempotency.claim(record("k")) is None
    other = IdempotencyRecord("other-scope", "k", "POST", "/v1/reports", "h", now())
    assert store.idempotency.claim(other) is None
    assert store.idempotency.get("other-scope", "k") is not None


def test_expired_keys_are_reclaimed_and_purged(store: ports.Store) -> None:
    old = now() - timedelta(hours=25)
    assert store.idempotency.claim(record("old", at=old)) is None
    store.idempotency.complete(SCOPE, "old", StoredResponse(202, (), b""))
    fresh = record("old", body=b"other")
    assert store.idempotency.claim(fresh) is None  # expired: a new first request
    replaced = store.idempotency.get(SCOPE, "old")
    assert replaced is not None and replaced.response is None
    assert replaced.request_hash == fresh.request_hash
    assert store.idempotency.claim(record("older", at=old)) is None
    assert store.idempotency.purge() == 1
    assert store.idempotency.get(SCOPE, "older") is None
    assert store.idempotency.get(SCOPE, "old") is not None


def test_an_abandoned_claim_is_taken_over(store: ports.Store) -> None:
    stale = now() - rules.LOCK_TIMEOUT - timedelta(seconds=1)
    assert store.idempotency.claim(record("stale", at=stale)) is None
    assert store.idempotency.claim(record("stale")) is None


def test_release_forgets_only_an_unfinished_claim(store: ports.Store) -> None:
    assert store.idempotency.claim(record("crash")) is None
    store.idempotency.release(SCOPE, "crash")
    assert store.idempotency.get(SCOPE, "crash") is None
    assert store.idempotency.claim(record("crash")) is None  # the retry runs
    store.idempotency.complete(SCOPE, "crash", StoredResponse(200, (), b"ok"))
    store.idempotency.release(SCOPE, "crash")
    kept = store.idempotency.get(SCOPE, "crash")
    assert kept is not None and kept.response is not None
    assert store.idempotency.get(SCOPE, "never") is None
