"""Waiting for a report to be final: the deadline and the progress callback, without I/O.

``Client.wait`` and ``AsyncClient.wait`` follow the event stream and poll when it breaks; both
ask a ``Waiter`` how long is left, whether a report is final, and whether to call back.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from reportd.domain.states import FINAL_STATES as _FINAL_STATES

ReportCallback = Callable[[dict[str, Any]], None]
"""Called with the report each time its state or progress changes."""
FINAL_STATES: frozenset[str] = frozenset(state.value for state in _FINAL_STATES)
"""The states a report does not leave (``wait`` returns on any of them)."""


class Waiter:
    """The deadline and progress reporting of ``wait``, for both clients."""

    def __init__(self, report_id: str, timeout: float | None, on_progress: ReportCallback | None):
        self.report_id = report_id
        self.timeout = timeout
        self.deadline = None if timeout is None else time.monotonic() + timeout
        self._on_progress = on_progress
        self._last: tuple[Any, ...] | None = None

    def remaining(self) -> float | None:
        return None if self.deadline is None else max(0.0, self.deadline - time.monotonic())

    def see(self, report: dict[str, Any]) -> bool:
        """Report a change to the callback; True once the report is final."""
        progress = report.get("progress") or {}
        snapshot = (report.get("state"), progress.get("rows"), progress.get("total_rows"))
        if snapshot != self._last and self._on_progress is not None:
            self._on_progress(report)
        self._last = snapshot
        return report.get("state") in FINAL_STATES

    def check(self) -> None:
        if self.deadline is not None and time.monotonic() >= self.deadline:
            raise TimeoutError(f"report {self.report_id} not final after {self.timeout}s")

    def pause(self, poll_interval: float) -> float:
        left = self.remaining()
        return poll_interval if left is None else min(poll_interval, left)
