"""The Python SDK (public import path; the code lives in ``reportd.sdk``)."""

from __future__ import annotations

from reportd.sdk.async_client import AsyncClient
from reportd.sdk.base import DEFAULT_TIMEOUT
from reportd.sdk.client import Client
from reportd.sdk.download import BytesCallback
from reportd.sdk.errors import ChecksumMismatch, error_from_response
from reportd.sdk.waiting import FINAL_STATES, ReportCallback
from reportd.sdk.webhooks import verify_standard_webhook, verify_webhook

__all__ = [
    "DEFAULT_TIMEOUT",
    "FINAL_STATES",
    "AsyncClient",
    "BytesCallback",
    "ChecksumMismatch",
    "Client",
    "ReportCallback",
    "error_from_response",
    "verify_standard_webhook",
    "verify_webhook",
]
