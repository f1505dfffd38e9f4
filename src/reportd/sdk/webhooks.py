"""Checking a webhook on the receiving side, with no server code imported."""

from __future__ import annotations

import json
from typing import Any

from reportd.domain.errors import ValidationError
from reportd.domain.webhook_signatures import verify as _verify_signature


def verify_webhook(
    payload: bytes | str, header: str, secret: str, *, tolerance: int = 300
) -> dict[str, Any]:
    """The event body (the report) of a webhook whose ``Reportd-Signature`` checks out.

    Pass the raw request body as received (not re-serialized JSON), the header's value and
    the subscription's ``whsec_...`` secret. Raises ``InvalidSignature`` for a wrong or
    missing signature, or a timestamp more than ``tolerance`` seconds from now (a replay).
    """
    _verify_signature(payload, header, secret, tolerance)
    try:
        body = json.loads(payload)
    except ValueError as exc:
        raise ValidationError("the webhook body is not JSON") from exc
    if not isinstance(body, dict):
        raise ValidationError("the webhook body is not a JSON object")
    return body
