"""The URL rule for webhooks and callbacks: absolute http(s), bounded, nothing hidden in it.

Why apart: report creation checks ``callback_url`` and the webhook use case checks
subscriptions and each delivery; the rule must be one. Why so strict: a URL is sent as-is
by the dispatcher, so a CR or LF stripped here but kept in the stored value made a delivery
that could never be sent (it stayed pending and aborted every pass); userinfo
(``user:pass@host``) hides the real host from a reader and ships a credential in every POST.
Nothing is cleaned up silently: a URL is accepted exactly as given, or refused.
Where the host may point is the outbound policy's question (``reportd.app.outbound``).
"""

from __future__ import annotations

from urllib.parse import SplitResult, urlsplit

from reportd.domain.errors import InvalidUrl

__all__ = ["MAX_URL_LENGTH", "check_url", "split_url"]

MAX_URL_LENGTH = 2000


def split_url(url: str, what: str = "url") -> SplitResult:
    """The parts of an acceptable URL, or ``InvalidUrl`` saying what is wrong with it."""

    def refuse(why: str) -> InvalidUrl:
        shown = url[:200].encode("unicode_escape").decode()  # a CR or LF visible as \\r \\n
        return InvalidUrl(f"{what} {why}", details={what: shown})

    if len(url) > MAX_URL_LENGTH:
        raise refuse(f"must be a URL of at most {MAX_URL_LENGTH} characters")
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in url):
        raise refuse("must not contain spaces or control characters (CR, LF, TAB, ...)")
    try:
        parts = urlsplit(url)
    except ValueError:  # "http://[::1/": an IPv6 host without its closing bracket
        raise refuse("is not a URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise refuse("must be an absolute http or https URL")
    try:
        parts.hostname.encode("idna")  # what resolving it would do: empty or long labels
    except UnicodeError:
        raise refuse("has a host name that is not valid") from None
    if "@" in parts.netloc:
        raise refuse("must not carry a user name or password")
    try:
        parts.port  # noqa: B018 (raises on a port that is not a number in range)
    except ValueError:
        raise refuse("has a port that is not a number from 0 to 65535") from None
    return parts


def check_url(url: str, what: str = "url") -> str:
    """``url`` itself when acceptable (never a cleaned-up copy), else ``InvalidUrl``."""
    split_url(url, what)
    return url
