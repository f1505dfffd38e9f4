"""Webhook signatures, Stripe style: ``Reportd-Signature: t=<unix time>,v1=<hex HMAC-SHA256>``.

Why in the domain: the server signs with it and a receiver (the SDK's ``verify_webhook``)
checks with it; the rule must be one, and a receiver must not import server code.
"""

from __future__ import annotations

import hashlib
import hmac
import time

from reportd.domain.errors import InvalidSignature

__all__ = [
    "DELIVERY_HEADER",
    "EVENT_HEADER",
    "SIGNATURE_HEADER",
    "sign",
    "signature_header",
    "verify",
]

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
