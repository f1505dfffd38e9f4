"""File names users see: ``<display_name>-<YYYY-MM-DD>.<ext>`` (the DigiCert convention)."""

from __future__ import annotations

import re
from datetime import date

_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')


def safe_display_name(display_name: str) -> str:
    """Strip what no filesystem or Content-Disposition header accepts; keep Unicode."""
    cleaned = _UNSAFE.sub("_", display_name).strip(" .")
    return cleaned or "report"


def artifact_filename(display_name: str, on: date, extension: str, part: int | None = None) -> str:
    stem = f"{safe_display_name(display_name)}-{on.isoformat()}"
    if part is not None:
        stem = f"{stem}-part-{part:03d}"
    return f"{stem}.{extension}"
