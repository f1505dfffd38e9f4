"""The page rule every list shares: 1 to ``MAX_PAGE`` items, never before the first.

Why one rule: the native routes, the dialects and the use cases all page lists; the cap (and
its message) was written in each of them.
"""

from __future__ import annotations

from typing import Final

from reportd.domain.errors import ValidationError

__all__ = ["MAX_OFFSET", "MAX_PAGE", "check_page"]

MAX_PAGE: Final = 1000
# The largest list offset: beyond it an int overflows SQLite's INTEGER (a 500, not a 400).
MAX_OFFSET: Final = 2**31 - 1


def check_page(limit: int, offset: int = 0) -> None:
    """``ValidationError`` unless ``1 <= limit <= MAX_PAGE`` and ``0 <= offset <= MAX_OFFSET``."""
    if not 1 <= limit <= MAX_PAGE:
        raise ValidationError(f"limit must be between 1 and {MAX_PAGE}")
    if not 0 <= offset <= MAX_OFFSET:
        raise ValidationError(f"the page must start between item 0 and item {MAX_OFFSET}")
