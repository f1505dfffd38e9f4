"""Webhook signatures (Stripe style) and the retry schedule, without a server."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import pytest

from reportd.app.webhooks import (
    DeliveryPolicy,
    check_events,
    check_url,
    sign,
    signature_header,
    verify,
)
from reportd.client import verify_webhook
from reportd.domain.errors import InvalidSignature, ValidationError

SECRET = "whsec_" + "ab" * 32
BODY = json.dumps({"id": "r1", "state": "FINISHED"}).encode()


def test_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    expected = hmac.new(SECRET.encode(), b"1700000000." + BODY, hashlib.sha256).hexdigest()
    assert sign(SECRET, 1700000000, BODY) == expected
    assert sign(SECRET, 1700000000, BODY.decode()) == expected
    assert signature_header(SECRET, 1700000000, BODY) == f"t=1700000000,v1={expected}"


def test_a_fresh_signature_verifies_and_returns_the_body() -> None:
    header = signature_header(SECRET, int(time.time()), BODY)
    verify(BODY, header, SECRET)
    assert verify_webhook(BODY, header, SECRET) == {"id": "r1", "state": "FINISHED"}
    assert verify_webhook(BODY.decode(), header, SECRET)["id"] == "r1"


def test_a_tampered_body_is_refused() -> None:
    header = signature_header(SECRET, int(time.time()), BODY)
    with pytest.raises(InvalidSignature, match="does not match"):
        verify_webhook(BODY.replace(b"FINISHED", b"FAILURE"), header, SECRET)


def test_a_wrong_secret_is_refused() -> None:
    header = signature_header(SECRET, int(time.time()), BODY)
    with pytest.raises(InvalidSignature, match="does not match"):
        verify_webhook(BODY, header, "whsec_" + "cd" * 32)


def test_an_old_or_future_timestamp_is_refused_even_if_signed_right() -> None:
    old = int(time.time()) - 301
    with pytest.raises(InvalidSignature, match="tolerance"):
        verify_webhook(BODY, signature_header(SECRET, old, BODY), SECRET)
    future = int(time.time()) + 400
    with pytest.raises(InvalidSignature, match="tolerance"):
        verify(BODY, signature_header(SECRET, future, BODY), SECRET)
    assert verify_webhook(BODY, signature_header(SECRET, old, BODY), SECRET, tolerance=600)


def test_the_timestamp_is_part_of_what_is_signed() -> None:
    now = int(time.time())
    signature = sign(SECRET, now - 1000, BODY)
    with pytest.raises(InvalidSignature, match="does not match"):
        verify(BODY, f"t={now},v1={signature}", SECRET)


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("", "no t="),
        ("v1=abc", "no t="),
        ("t=notanumber,v1=abc", "no t="),
        ("t=1700000000", "no v1"),
        ("t=1700000000,v0=abc", "no v1"),
    ],
)
def test_malformed_headers_say_what_is_missing(header: str, message: str) -> None:
    with pytest.raises(InvalidSignature, match=message):
        verify(BODY, header, SECRET, now=1700000000)


def test_any_one_of_several_v1_signatures_passes() -> None:
    now = int(time.time())
    header = f"t={now},v1={'0' * 64},v1={sign(SECRET, now, BODY)}"
    verify(BODY, header, SECRET)


def test_a_signed_body_that_is_not_an_object_is_a_validation_error() -> None:
    now = int(time.time())
    with pytest.raises(ValidationError, match="not a JSON object"):
        verify_webhook(b"[1]", signature_header(SECRET, now, b"[1]"), SECRET)


def test_default_retries_span_more_than_an_hour_then_stop() -> None:
    policy = DeliveryPolicy()
    delays = []
    attempts = 1
    while (delay := policy.delay_after(attempts)) is not None:
        delays.append(delay)
        attempts += 1
    assert attempts == policy.max_attempts == 10
    assert delays == sorted(delays)
    assert sum(delays) >= 3600


def test_short_delay_lists_repeat_their_last_delay_until_max_attempts() -> None:
    policy = DeliveryPolicy(retry_delays=(0.2, 1.0), max_attempts=4)
    assert [policy.delay_after(n) for n in (1, 2, 3, 4)] == [0.2, 1.0, 1.0, None]
    with pytest.raises(ValidationError):
        DeliveryPolicy(retry_delays=(-1.0,))


def test_urls_and_events_are_checked() -> None:
    assert check_url("https://example.com/hook") == "https://example.com/hook"
    for bad in ("ftp://example.com/x", "/relative", "http://", "javascript:alert(1)"):
        with pytest.raises(ValidationError):
            check_url(bad)
    assert check_events(["report.failed", "report.failed"]) == ("report.failed",)
    with pytest.raises(ValidationError) as caught:
        check_events(["report.finished", "report.started"])
    assert caught.value.details == {"unknown_events": ["report.started"]}
    with pytest.raises(ValidationError):
        check_events([])
