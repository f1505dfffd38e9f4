"""The Python SDK (public import path; the code lives in ``reportd.sdk.client``)."""

from __future__ import annotations

from reportd.sdk.client import (
    DEFAULT_TIMEOUT,
    FINAL_STATES,
    AsyncClient,
    BytesCallback,
    ChecksumMismatch,
    Client,
    ReportCallback,
    error_from_response,
    verify_webhook,
)

__all__ = [
    "DEFAULT_TIMEOUT",
    "FINAL_STATES",
    "AsyncClient",
    "BytesCallback",
    "ChecksumMismatch",
    "Client",
    "ReportCallback",
    "error_from_response",
    "verify_webhook",
]
