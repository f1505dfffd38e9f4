"""Idempotency-Key rules: what counts as the same request, expiry, in progress, what is kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from reportd.app import idempotency as rules
from reportd.domain.errors import Conflict, IdempotencyKeyReused, ValidationError

NOW = datetime(2025, 5, 1, 12, 0, tzinfo=UTC)
ANSWER = rules.StoredResponse(202, (("content-type", "application/json"),), b'{"id":"r1"}')


def held(
    *, age: timedelta = timedelta(0), response: rules.StoredResponse | None = ANSWER
) -> rules.IdempotencyRecord:
    return rules.IdempotencyRecord(
        scope=rules.credential_scope("rk_secret"),
        key="k1",
        method="POST",
        path="/v1/reports",
        request_hash=rules.fingerprint("POST", "/v1/reports", b'{"a": 1}'),
        created_at=NOW - age,
        response=response,
    )


def test_key_of_255_characters_is_accepted_256_is_a_validation_error() -> None:
    assert rules.check_key("k" * 255) == "k" * 255
    with pytest.raises(ValidationError) as caught:
        rules.check_key("k" * 256)
    assert caught.value.status == 400
    assert caught.value.code == "validation_error"


def test_blank_key_is_a_validation_error() -> None:
    with pytest.raises(ValidationError):
        rules.check_key("  ")


def test_scope_is_sha256_of_the_credential_so_keys_differ_per_credential() -> None:
    assert rules.credential_scope("a") != rules.credential_scope("b")
    assert len(rules.credential_scope("a")) == 64


def test_fingerprint_compares_json_by_value() -> None:
    assert rules.fingerprint("POST", "/p", b'{"a": 1, "b": [1, 2]}') == rules.fingerprint(
        "post", "/p", b'{"b":[1,2],"a":1}'
    )


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/v1/reports", b'{"a": 2}'),
        ("POST", "/v1/schedules", b'{"a": 1}'),
        ("PUT", "/v1/reports", b'{"a": 1}'),
        ("POST", "/v1/reports?x=1", b'{"a": 1}'),
    ],
)
def test_fingerprint_differs_on_method_path_query_or_body(
    method: str, path: str, body: bytes
) -> None:
    assert rules.fingerprint(method, path, body) != rules.fingerprint(
        "POST", "/v1/reports", b'{"a": 1}'
    )


def test_fingerprint_of_a_non_json_body_uses_the_bytes() -> None:
    assert rules.fingerprint("POST", "/p", b"a=1") != rules.fingerprint("POST", "/p", b"a=2")
    # the length prefix keeps the parts apart: "/pa" + "" is not "/p" + "a"
    assert rules.fingerprint("POST", "/pa", b"") != rules.fingerprint("POST", "/p", b"a")


def test_same_request_replays_the_stored_answer() -> None:
    record = held()
    assert rules.replay_of(record, record.request_hash) is ANSWER


def test_different_request_under_the_same_key_is_422() -> None:
    with pytest.raises(IdempotencyKeyReused) as caught:
        rules.replay_of(held(), rules.fingerprint("POST", "/v1/reports", b'{"a": 2}'))
    assert caught.value.status == 422
    assert caught.value.code == "idempotency_key_reused"


def test_same_request_while_the_first_runs_is_409_conflict() -> None:
    record = held(response=None)
    with pytest.raises(Conflict) as caught:
        rules.replay_of(record, record.request_hash)
    assert caught.value.code == "conflict"
    assert "in progress" in caught.value.message


def test_a_different_request_wins_over_in_progress_as_422() -> None:
    with pytest.raises(IdempotencyKeyReused):
        rules.replay_of(held(response=None), "0" * 64)


def test_answers_expire_after_24_hours() -> None:
    assert not rules.is_reclaimable(held(age=timedelta(hours=23, minutes=59)), NOW)
    assert rules.is_reclaimable(held(age=timedelta(hours=24)), NOW)
    assert rules.purge_before(NOW) == NOW - timedelta(hours=24)


def test_an_abandoned_first_request_frees_its_key_after_the_lock_timeout() -> None:
    assert not rules.is_reclaimable(held(response=None, age=timedelta(seconds=10)), NOW)
    assert rules.is_reclaimable(held(response=None, age=rules.LOCK_TIMEOUT), NOW)


@pytest.mark.parametrize(
    ("status", "kept"),
    [(200, True), (201, True), (202, True), (400, True), (404, True), (409, True), (422, True),
     (401, False), (429, False), (500, False), (503, False), (101, False)],
)  # fmt: skip
def test_only_final_answers_are_kept(status: int, kept: bool) -> None:
    assert rules.should_store(status) is kept


def test_only_headers_that_belong_to_the_answer_are_kept() -> None:
    headers = [
        ("Content-Type", "application/json"),
        ("Location", "/v1/reports/r1"),
        ("RateLimit-Remaining", "3"),
        ("date", "Thu, 01 May 2025 12:00:00 GMT"),
    ]
    assert rules.kept_headers(headers) == (
        ("content-type", "application/json"),
        ("location", "/v1/reports/r1"),
    )
