"""A finished report's rows as entries, a page at a time (PingOne's ``deliverAs: ENTRIES``).

Why a use case: a client that asks for entries instead of a file wants rows in a response,
paged by an opaque cursor, and may want to wait for them (``sync``). The rows are the report's
own JSON file, so the entries are exactly what its download holds. Entries are for small
results (PingOne's words: "a fairly small number of records"): a page parses the file whole.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from dataclasses import dataclass
from typing import Any, Final

from reportd.app.downloads import Downloads
from reportd.app.reports import Reports
from reportd.domain.errors import ReportNotReady, ValidationError
from reportd.domain.models import Principal, Report
from reportd.domain.states import FINAL_STATES, ReportState

__all__ = ["EntriesPage", "ReportEntries", "decode_cursor", "encode_cursor"]

MAX_ENTRIES_BYTES: Final = 64 * 1024 * 1024  # a JSON file past this is refused as entries
POLL: Final = 0.1  # seconds between looks while waiting for a report to finish


@dataclass(frozen=True, slots=True)
class EntriesPage:
    entries: list[dict[str, Any]]
    total: int
    next_offset: int | None


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, _, value = text.partition(":")
        offset = int(value)
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise ValidationError("cursor is not valid", details={"target": "cursor"}) from exc
    if kind != "o" or offset < 0:
        raise ValidationError("cursor is not valid", details={"target": "cursor"})
    return offset


class ReportEntries:
    """Over the reports and downloads use cases."""

    def __init__(self, *, reports: Reports, downloads: Downloads) -> None:
        self._reports = reports
        self._downloads = downloads

    def wait(self, principal: Principal, report_id: str, timeout: float) -> Report:
        """The report once final, or as it is after ``timeout`` seconds (``sync``)."""
        deadline = time.monotonic() + timeout
        report = self._reports.get(principal, report_id)
        while report.state not in FINAL_STATES and time.monotonic() < deadline:
            time.sleep(POLL)
            report = self._reports.get(principal, report_id)
        return report

    def page(self, principal: Principal, report_id: str, offset: int, limit: int) -> EntriesPage:
        report = self._reports.get(principal, report_id)
        if report.state is not ReportState.FINISHED:
            raise ReportNotReady(f"the report is {report.state}, not FINISHED")
        download = self._downloads.open_download(principal, report_id, "json")
        if download.artifact.size > MAX_ENTRIES_BYTES:
            raise ValidationError(
                "the report is too large to deliver as entries; ask for a file",
                details={"target": "deliverAs"},
            )
        rows: list[dict[str, Any]] = json.loads(b"".join(download.open()))
        chunk = rows[offset : offset + limit]
        after = offset + len(chunk)
        return EntriesPage(
            entries=chunk, total=len(rows), next_offset=after if after < len(rows) else None
        )
