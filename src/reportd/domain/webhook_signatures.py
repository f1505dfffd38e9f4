"""Webhook signatures: reportd's own, Stripe style (``Reportd-Signature: t=<unix time>,v1=<hex
HMAC-SHA256>``), and the choice of scheme a subscription makes (``signed_headers``).

Why in the domain: the server signs with it and a receiver (the SDK's ``verify_webhook``)
checks with it; the rule must be one, and a receiver must not import server code. Standard
Webhooks (``webhook-id``, ``webhook-timestamp``, ``webhook-signature``) is
``reportd.domain.standard_webhooks``; ``signed_headers`` is the one signer every webhook POST
(subscriptions, callbacks, the webhook destination) goes through.
"""

from __future__ import annotations

import hashlib
import hmac
import time

from reportd.domain.errors import InvalidSignature, ValidationError
from reportd.domain.standard_webhooks import standard_headers

__all__ = [
    "BOTH",
    "DEFAULT_SCHEME",
    "DELIVERY_HEADER",
    "EVENT_HEADER",
    "REPORTD",
    "SCHEMES",
    "SIGNATURE_HEADER",
    "STANDARD",
    "check_scheme",
    "sign",
    "signature_header",
    "signed_headers",
    "verify",
]

# The choice a subscription makes: reportd's header, Standard Webhooks' three, or both.
REPORTD = "reportd"
STANDARD = "standard"
BOTH = "both"
SCHEMES: tuple[str, ...] = (REPORTD, STANDARD, BOTH)
# Both: subscribers of before keep their header, and any Standard Webhooks library verifies.
DEFAULT_SCHEME = BOTH

SIGNATURE_HEADER = "Reportd-Signature"
EVENT_HEADER = "Reportd-Event"
DELIVERY_HEADER = "Reportd-Delivery"


def _bytes(value: bytes | str) -> bytes:
    return value.encode() if isinstance(value, str) else value


def sign(secret: str, timestamp: int, body: bytes | str) -> str:
    """Hex HMAC-SHA256 of ``"<timestamp>.<body>"`` keyed by the whole secret string."""
    message = str(timestamp).encode() + b"." + _bytes(body)
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes | str) -> str:
    return f"t={timestamp},v1={sign(secret, timestamp, body)}"


def _parse_header(header: str) -> tuple[int, list[str]]:
    timestamp: int | None = None
    signatures: list[str] = []
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1" and value:
            signatures.append(value)
    if timestamp is None:
        raise InvalidSignature(f"{SIGNATURE_HEADER} has no t=<unix time>: {header[:100]!r}")
    if not signatures:
        raise InvalidSignature(f"{SIGNATURE_HEADER} has no v1 signature: {header[:100]!r}")
    return timestamp, signatures


def verify(
    payload: bytes | str,
    header: str,
    secret: str,
    tolerance: int = 300,
    *,
    now: float | None = None,
) -> None:
    """Raise ``InvalidSignature`` unless ``header`` signs ``payload`` within ``tolerance`` s.

    The timestamp is part of what is signed, so a captured delivery cannot be replayed
    later than ``tolerance`` seconds; any one matching ``v1`` passes (secret rotation).
    """
    timestamp, signatures = _parse_header(header)
    age = (time.time() if now is None else now) - timestamp
    if tolerance > 0 and abs(age) > tolerance:
        raise InvalidSignature(
            f"the webhook's timestamp is {int(age)} s away from now, over the {tolerance} s "
            "tolerance (a replay, or a clock out of sync)"
        )
    expected = sign(secret, timestamp, payload)
    if not any(hmac.compare_digest(expected, candidate) for candidate in signatures):
        raise InvalidSignature("the webhook's signature does not match its body and secret")


def check_scheme(scheme: str, what: str = "signature") -> str:
    """``scheme`` when it is one of ``SCHEMES``, else a ``ValidationError`` naming them."""
    if scheme not in SCHEMES:
        raise ValidationError(
            f"{what} must be one of {list(SCHEMES)}", details={what: str(scheme)[:40]}
        )
    return scheme


def signed_headers(
    scheme: str, secret: str, *, message_id: str, timestamp: int, body: bytes | str
) -> dict[str, str]:
    """The signature headers of one POST of ``body`` under ``scheme``.

    ``message_id`` is the delivery's id: the same on every retry, so a receiver
    de-duplicates on it (``webhook-id``); ``timestamp`` is the attempt's unix time.
    """
    headers: dict[str, str] = {}
    if check_scheme(scheme) in (REPORTD, BOTH):
        headers[SIGNATURE_HEADER] = signature_header(secret, timestamp, body)
    if scheme in (STANDARD, BOTH):
        headers.update(standard_headers(secret, message_id, timestamp, body))
    return headers
