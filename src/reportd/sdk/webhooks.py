"""Checking a webhook on the receiving side, with no server code imported.

Two checks, one per signing scheme a subscription can choose: ``verify_webhook`` reads
reportd's ``Reportd-Signature``; ``verify_standard_webhook`` reads Standard Webhooks'
``webhook-id``, ``webhook-timestamp`` and ``webhook-signature`` (what the ``standardwebhooks``
libraries of every language check, given the same secret). A subscription signed ``both``
passes either.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from reportd.domain.errors import ValidationError
from reportd.domain.standard_webhooks import verify_standard
from reportd.domain.webhook_signatures import verify as _verify_signature

__all__ = ["verify_standard_webhook", "verify_webhook"]


def verify_webhook(
    payload: bytes | str, header: str, secret: str, *, tolerance: int = 300
) -> dict[str, Any]:
    """The event body (the report) of a webhook whose ``Reportd-Signature`` checks out.

    Pass the raw request body as received (not re-serialized JSON), the header's value and
    the subscription's ``whsec_...`` secret. Raises ``InvalidSignature`` for a wrong or
    missing signature, or a timestamp more than ``tolerance`` seconds from now (a replay).
    """
    _verify_signature(payload, header, secret, tolerance)
    return _body(payload)


def verify_standard_webhook(
    payload: bytes | str, headers: Mapping[str, str], secret: str, *, tolerance: int = 300
) -> dict[str, Any]:
    """The event body of a webhook whose Standard Webhooks headers check out.

    ``headers`` are the request's headers (any case); the rest as ``verify_webhook``. The
    same as ``standardwebhooks.Webhook(secret).verify(payload, headers)``, without the package.
    """
    verify_standard(payload, headers, secret, tolerance)
    return _body(payload)


def _body(payload: bytes | str) -> dict[str, Any]:
    try:
        body = json.loads(payload)
    except ValueError as exc:
        raise ValidationError("the webhook body is not JSON") from exc
    if not isinstance(body, dict):
        raise ValidationError("the webhook body is not a JSON object")
    return body
