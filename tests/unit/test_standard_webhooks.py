"""Standard Webhooks signatures against the reference library (``standardwebhooks`` on PyPI).

What a receiver relies on: a delivery reportd signs passes ``Webhook(secret).verify`` with the
secret exactly as the API showed it, and the SDK's check accepts what the library signs. The
scheme choice (``reportd``, ``standard``, ``both``) decides which headers a POST carries.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError as PydanticValidationError
from standardwebhooks import Webhook, WebhookVerificationError

from reportd.client import verify_standard_webhook, verify_webhook
from reportd.config import WebhookSettings
from reportd.domain.errors import InvalidSignature, ValidationError
from reportd.domain.standard_webhooks import standard_headers, standard_signature
from reportd.domain.webhook_signatures import SCHEMES, check_scheme, signed_headers

SECRET = "whsec_" + "ab12" * 16  # what reportd issues: whsec_ and 64 hex digits
BODY = json.dumps({"id": "r1", "state": "FINISHED"}).encode()
MESSAGE = "2f3c1b8e-6a52-4ad1-9a70-0e5d1c3b9f11"


def test_the_reference_library_verifies_what_reportd_signs() -> None:
    headers = standard_headers(SECRET, MESSAGE, int(time.time()), BODY)
    assert Webhook(SECRET).verify(BODY, headers) == {"id": "r1", "state": "FINISHED"}
    assert Webhook(SECRET).verify(BODY.decode(), headers) == {"id": "r1", "state": "FINISHED"}


def test_the_signature_is_the_spec_and_the_library_s_own() -> None:
    stamp = 1_700_000_000
    key = base64.b64decode(SECRET.removeprefix("whsec_"))
    assert len(key) == 48  # hex digits read as base64: 64 characters, 48 bytes of key
    digest = hmac.new(key, f"{MESSAGE}.{stamp}.".encode() + BODY, hashlib.sha256).digest()
    expected = "v1," + base64.b64encode(digest).decode()
    assert standard_signature(SECRET, MESSAGE, stamp, BODY) == expected
    library = Webhook(SECRET).sign(MESSAGE, datetime.fromtimestamp(stamp, UTC), BODY.decode())
    assert library == expected


def test_the_sdk_verifies_what_the_library_signs_in_any_header_case() -> None:
    now = datetime.now(UTC)
    headers = {
        "Webhook-Id": MESSAGE,
        "Webhook-Timestamp": str(int(now.timestamp())),
        # a second, rotated-out key's signature first: any one v1 passes
        "Webhook-Signature": "v1,bm90IHRoaXMgb25l "
        + Webhook(SECRET).sign(MESSAGE, now, BODY.decode()),
    }
    assert verify_standard_webhook(BODY, headers, SECRET)["id"] == "r1"


def test_a_tampered_body_a_wrong_secret_or_a_changed_id_is_refused_by_both() -> None:
    headers = standard_headers(SECRET, MESSAGE, int(time.time()), BODY)
    tampered = BODY.replace(b"FINISHED", b"FAILURE")
    other = "whsec_" + "cd34" * 16
    replayed = {**headers, "webhook-id": "another-delivery"}
    cases = [(tampered, SECRET, headers), (BODY, other, headers), (BODY, SECRET, replayed)]
    for payload, secret, sent in cases:
        with pytest.raises(WebhookVerificationError):
            Webhook(secret).verify(payload, sent)
        with pytest.raises(InvalidSignature, match="does not match"):
            verify_standard_webhook(payload, sent, secret)


def test_an_old_or_future_timestamp_is_refused_even_if_signed_right() -> None:
    for stamp in (int(time.time()) - 301, int(time.time()) + 400):
        headers = standard_headers(SECRET, MESSAGE, stamp, BODY)
        with pytest.raises(WebhookVerificationError):
            Webhook(SECRET).verify(BODY, headers)
        with pytest.raises(InvalidSignature, match="tolerance"):
            verify_standard_webhook(BODY, headers, SECRET)
    old = standard_headers(SECRET, MESSAGE, int(time.time()) - 301, BODY)
    assert verify_standard_webhook(BODY, old, SECRET, tolerance=600)["id"] == "r1"


def test_missing_headers_or_a_bad_timestamp_are_a_clear_error() -> None:
    headers = standard_headers(SECRET, MESSAGE, int(time.time()), BODY)
    for name in headers:
        with pytest.raises(InvalidSignature, match="missing"):
            verify_standard_webhook(BODY, {k: v for k, v in headers.items() if k != name}, SECRET)
    with pytest.raises(InvalidSignature, match="unix time"):
        verify_standard_webhook(BODY, {**headers, "webhook-timestamp": "soon"}, SECRET)
    body = b"not json"
    signed = standard_headers(SECRET, MESSAGE, int(time.time()), body)
    with pytest.raises(ValidationError, match="not JSON"):
        verify_standard_webhook(body, signed, SECRET)


@pytest.mark.parametrize("scheme", SCHEMES)
def test_each_scheme_carries_its_headers_and_each_verifies(scheme: str) -> None:
    stamp = int(time.time())
    headers = signed_headers(scheme, SECRET, message_id=MESSAGE, timestamp=stamp, body=BODY)
    standard = {"webhook-id", "webhook-timestamp", "webhook-signature"}
    expected = {
        "reportd": {"Reportd-Signature"},
        "standard": standard,
        "both": {"Reportd-Signature", *standard},
    }[scheme]
    assert set(headers) == expected
    if "Reportd-Signature" in headers:
        assert verify_webhook(BODY, headers["Reportd-Signature"], SECRET)["id"] == "r1"
    if "webhook-signature" in headers:
        assert Webhook(SECRET).verify(BODY, headers)["id"] == "r1"
        assert headers["webhook-id"] == MESSAGE


def test_an_unknown_scheme_is_a_validation_error_naming_the_choices() -> None:
    with pytest.raises(ValidationError, match=r"\['reportd', 'standard', 'both'\]"):
        check_scheme("svix")
    with pytest.raises(ValidationError):
        signed_headers("hmac", SECRET, message_id=MESSAGE, timestamp=1, body=BODY)


def test_the_operators_setting_takes_the_three_schemes_only() -> None:
    assert WebhookSettings().signature == "both"
    assert WebhookSettings(signature="reportd").signature == "reportd"
    with pytest.raises(PydanticValidationError, match="signature"):
        WebhookSettings(signature="svix")  # type: ignore[arg-type]
