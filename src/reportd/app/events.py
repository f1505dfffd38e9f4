"""Events the use cases raise, for whoever in the process wants to react.

Why: a worker sleeping on an empty queue must wake when work is queued. Routers used to call
``notify_created()`` by hand after every create; now the use case that queues work (a report
created, a schedule run, a format added) raises ``work_queued`` once, and the composition root
connects the workers of this process to it. Other processes learn of new work from the database
(LISTEN/NOTIFY on PostgreSQL, polling otherwise). Likewise ``report_canceled`` stops a report
this process is running at once, rather than at its next heartbeat.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

__all__ = ["Events", "Signal"]

log = logging.getLogger("reportd.app.events")

Listener = Callable[..., None]


class Signal:
    """A list of listeners; a failing listener is logged, never the caller's error."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._listeners: list[Listener] = []
        self._lock = threading.Lock()

    def connect(self, listener: Listener) -> None:
        with self._lock:
            self._listeners.append(listener)

    def disconnect(self, listener: Listener) -> None:
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    def emit(self, *args: Any) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(*args)
            except Exception:  # a listener's bug must not fail the request that queued work
                log.exception("event listener failed", extra={"action": f"{self.name}_error"})


class Events:
    """The application's events, one instance per composed application."""

    def __init__(self) -> None:
        self.work_queued = Signal("work_queued")  # no argument
        self.report_canceled = Signal("report_canceled")  # the report id
