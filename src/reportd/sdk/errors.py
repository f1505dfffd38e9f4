"""Error bodies back to the classes of ``reportd.domain.errors`` the server raised.

The SDK raises the same classes as the server, with its message and details; a body with no
code this SDK knows still maps by its HTTP status; an unreachable server is ``Unavailable``;
a downloaded file whose sha256 differs from the artifact's is ``ChecksumMismatch``.
"""

from __future__ import annotations

from typing import Any

import httpx

from reportd.domain.errors import (
    AuthenticationFailed,
    Conflict,
    Forbidden,
    NotFound,
    RangeNotSatisfiable,
    RateLimited,
    ReportdError,
    ReportExpired,
    Unavailable,
    ValidationError,
    error_class_for,
)

# When a body carries no code we know, its status still says what kind of error it is.
_BY_STATUS: dict[int, type[ReportdError]] = {
    400: ValidationError,
    401: AuthenticationFailed,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    410: ReportExpired,
    416: RangeNotSatisfiable,
    422: ValidationError,
    429: RateLimited,
    502: Unavailable,
    503: Unavailable,
    504: Unavailable,
}
_DETAIL_ATTRIBUTES = ("position", "expression", "retry_after")


class ChecksumMismatch(ReportdError):
    """The downloaded file's sha256 differs from the report's artifact."""

    code = "checksum_mismatch"
    status = 502


def error_from_response(response: httpx.Response) -> ReportdError:
    """The domain error an error response stands for (its body must have been read)."""
    code, message, details = _error_fields(response)
    cls = error_class_for(code) if code else ReportdError
    if cls is ReportdError and code != ReportdError.code:
        cls = _BY_STATUS.get(response.status_code, ReportdError)
    # Not cls(...): some classes take other arguments; the wire already has the message.
    error = cls.__new__(cls)
    ReportdError.__init__(error, message or None, details=details)
    if code and code != cls.code:
        object.__setattr__(error, "code", code)  # keep a code this SDK does not know yet
    if isinstance(details, dict):
        for name in _DETAIL_ATTRIBUTES:
            if name in details:
                setattr(error, name, details[name])
    return error


def _error_fields(response: httpx.Response) -> tuple[str | None, str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = None
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and isinstance(error.get("code"), str):
        return error["code"], str(error.get("message") or ""), error.get("details")
    text = response.text.strip()[:200]
    return None, f"HTTP {response.status_code} from {response.request.url}: {text}", None


def unreachable(base_url: str, exc: httpx.TransportError) -> Unavailable:
    """A transport failure (refused, reset, timed out) as the domain's ``Unavailable``."""
    reason = str(exc) or type(exc).__name__
    return Unavailable(f"cannot reach reportd at {base_url}: {reason}", details={"reason": reason})
