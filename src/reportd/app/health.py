"""Readiness: is every dependency of this process up (``/readyz``)?

Why a use case: the answer names what is down (``details.down``), the same way for every door
that asks; the probes themselves are the ports' own ``check`` methods.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from reportd.domain.errors import ReportdError, Unavailable

__all__ = ["Readiness"]


class Readiness:
    def __init__(self, checks: Mapping[str, Callable[[], None]], storages: list[str]) -> None:
        self._checks = dict(checks)
        self._storages = sorted(storages)

    def check(self) -> dict[str, Any]:
        """Raises Unavailable naming every dependency that is down (``details.down``)."""
        down: dict[str, str] = {}
        for name, check in self._checks.items():
            try:
                check()
            except Exception as exc:  # a probe: whatever the failure, the dependency is down
                down[name] = exc.message if isinstance(exc, ReportdError) else repr(exc)
        if down:
            raise Unavailable(f"not ready: {', '.join(down)} unavailable", details={"down": down})
        return {"database": "ok", "storages": self._storages}
