"""Server-sent events (``GET /v1/reports/{id}/events``) decoded line by line into reports."""

from __future__ import annotations

import json
from typing import Any


class EventDecoder:
    """Server-sent events, line by line, to the reports of ``event: report`` messages."""

    def __init__(self) -> None:
        self._event = ""
        self._data: list[str] = []

    def feed(self, line: str) -> dict[str, Any] | None:
        """The report a blank line completes, else None (comments and other events too)."""
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "event":
            self._event = value
        elif name == "data":
            self._data.append(value)
        return None

    def _dispatch(self) -> dict[str, Any] | None:
        event, data = self._event or "message", "\n".join(self._data)
        self._event, self._data = "", []
        if event != "report" or not data:
            return None
        report: dict[str, Any] = json.loads(data)
        return report
