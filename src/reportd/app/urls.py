"""The URL rule for webhooks and callbacks: absolute http(s), bounded length.

Why apart: report creation checks ``callback_url`` and the webhook use case checks
subscriptions and each delivery; the rule must be one.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from reportd.domain.errors import ValidationError

__all__ = ["MAX_URL_LENGTH", "check_url"]

MAX_URL_LENGTH = 2000


def check_url(url: str, what: str = "url") -> str:
    parts = urlsplit(url.strip())
    if len(url) > MAX_URL_LENGTH or parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError(
            f"{what} must be an absolute http or https URL of at most {MAX_URL_LENGTH} characters",
            details={what: url[:200]},
        )
    return url.strip()
