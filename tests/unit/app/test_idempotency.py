"""Idempotency-Key rules over the idempotency port: one request runs, repeats get its answer."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from reportd.app.idempotency import credential_scope, fingerprint, replay_of, should_store
from reportd.domain.errors import Conflict, IdempotencyKeyReused
from reportd.domain.idempotency import IdempotencyRecord, StoredResponse
from tests.unit.app.conftest import World


def record(body: bytes) -> IdempotencyRecord:
    return IdempotencyRecord(
        scope=credential_scope("rk_secret"),
        key="k-1",
        method="POST",
        path="/v1/reports",
        request_hash=fingerprint("POST", "/v1/reports", body),
        created_at=datetime.now(UTC),
    )


def test_a_key_is_taken_once_and_its_answer_replayed(world: World) -> None:
    port = world.store.idempotency
    first = record(b'{"template_id": "orders"}')
    assert port.claim(first) is None  # ours: run the request
    held = port.claim(first)
    assert held is not None
    with pytest.raises(Conflict, match="in progress"):
        replay_of(held, first.request_hash)
    answer = StoredResponse(status=202, headers=(("content-type", "application/json"),), body=b"{}")
    port.complete(first.scope, first.key, answer)
    held = port.claim(first)
    assert held is not None and replay_of(held, first.request_hash) == answer
    other = record(b'{"template_id": "invoices"}')
    with pytest.raises(IdempotencyKeyReused):
        replay_of(held, other.request_hash)


def test_only_answers_a_retry_would_reproduce_are_kept() -> None:
    assert should_store(202) and should_store(404)
    assert not should_store(500) and not should_store(401) and not should_store(429)
