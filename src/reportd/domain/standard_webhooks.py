"""Standard Webhooks signatures (standardwebhooks.com): ``webhook-id``, ``webhook-timestamp``,
``webhook-signature: v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">``.

Why here, in the standard library, rather than through the ``standardwebhooks`` package: the
rule is ten lines of ``hmac``; the server, the webhook destination and the SDK's receiver all
need it, and the domain imports nothing outside the standard library. Interoperability is
proved by the tests, which verify what this module signs with that package's own
``Webhook(secret).verify`` (``tests/unit/test_standard_webhooks.py``, and a real receiver in
``tests/integration/test_standard_webhooks.py``).

The key is the secret as those libraries read it: ``whsec_`` stripped, the rest base64-decoded.
reportd's secrets are ``whsec_`` and 64 hex digits, which are base64 too (48 bytes of key), so
a subscriber hands its secret, as shown once, to any Standard Webhooks library unchanged.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Mapping

from reportd.domain.errors import InvalidSignature

__all__ = [
    "ID_HEADER",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "standard_headers",
    "standard_signature",
    "verify_standard",
]

ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"
_PREFIX = "whsec_"


def _key(secret: str) -> bytes:
    """The HMAC key: what every Standard Webhooks library derives from ``secret``."""
    raw = secret.removeprefix(_PREFIX)
    try:
        # The padding added is what the reference libraries add (b64decode drops the extra).
        key = base64.b64decode(raw + "==")
    except (binascii.Error, ValueError) as exc:
        raise InvalidSignature("the webhook secret is not whsec_ and base64") from exc
    if not key:
        raise InvalidSignature("the webhook secret is empty")
    return key


def _bytes(value: bytes | str) -> bytes:
    return value.encode() if isinstance(value, str) else value


def standard_signature(secret: str, message_id: str, timestamp: int, body: bytes | str) -> str:
    """``v1,<base64 HMAC-SHA256>`` of ``"<message_id>.<timestamp>.<body>"``."""
    signed = f"{message_id}.{timestamp}.".encode() + _bytes(body)
    digest = hmac.new(_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def standard_headers(
    secret: str, message_id: str, timestamp: int, body: bytes | str
) -> dict[str, str]:
    """The three headers of one attempt; ``message_id`` stays the same across retries."""
    return {
        ID_HEADER: message_id,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: standard_signature(secret, message_id, timestamp, body),
    }


def verify_standard(
    payload: bytes | str,
    headers: Mapping[str, str],
    secret: str,
    tolerance: int = 300,
    *,
    now: float | None = None,
) -> None:
    """Raise ``InvalidSignature`` unless ``headers`` sign ``payload`` within ``tolerance`` s.

    Header names are matched case-insensitively; any one ``v1`` signature of the
    space-separated list passes (the spec's key rotation).
    """
    lower = {name.lower(): value for name, value in headers.items()}
    message_id = lower.get(ID_HEADER, "")
    stamp = lower.get(TIMESTAMP_HEADER, "")
    signatures = lower.get(SIGNATURE_HEADER, "")
    if not (message_id and stamp and signatures):
        raise InvalidSignature(
            f"a Standard Webhooks delivery carries {ID_HEADER}, {TIMESTAMP_HEADER} and "
            f"{SIGNATURE_HEADER}; some are missing"
        )
    if not stamp.isdigit():
        raise InvalidSignature(f"{TIMESTAMP_HEADER} is not a unix time: {stamp[:40]!r}")
    age = (time.time() if now is None else now) - int(stamp)
    if tolerance > 0 and abs(age) > tolerance:
        raise InvalidSignature(
            f"the webhook's timestamp is {int(age)} s away from now, over the {tolerance} s "
            "tolerance (a replay, or a clock out of sync)"
        )
    expected = standard_signature(secret, message_id, int(stamp), payload)
    candidates = [item for item in signatures.split(" ") if item.startswith("v1,")]
    if not any(hmac.compare_digest(expected.encode(), c.encode()) for c in candidates):
        raise InvalidSignature("the webhook's signature does not match its body and secret")
