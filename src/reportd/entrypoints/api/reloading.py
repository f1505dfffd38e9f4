"""SIGHUP in an API process: templates and sources re-read in place, requests undisturbed.

The reload is built in a thread (YAML parsing and opening sources must not stall the event
loop) and swapped in with one assignment each (``reportd.bootstrap.reload_library``), so a
request in flight finishes on the set it started with. Reloads never overlap: a SIGHUP that
arrives during one runs again after it. Sources dropped by a reload are closed at shutdown.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from collections.abc import Callable
from typing import Any

from reportd.adapters.sources.base import Source
from reportd.bootstrap import App, reload_library
from reportd.config import Settings

log = logging.getLogger("reportd.reload")


class Reloader:
    """Owns this process's SIGHUP handler while the app runs."""

    def __init__(self, service: App, load: Callable[[], Settings]) -> None:
        self.service = service
        self.load = load
        self.retired: list[Source] = []
        self.reloads = 0  # completed reloads, for tests and logs
        self._lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[Any]] = set()

    def install(self) -> bool:
        """Take SIGHUP on the running loop; False where signals cannot be had (not the main
        thread, e.g. under a test client)."""
        if threading.current_thread() is not threading.main_thread():
            return False
        asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, self.request)
        # A child of ``serve --http-processes`` starts with SIGHUP blocked: one sent while it
        # started is delivered now, to this handler.
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGHUP})
        return True

    def uninstall(self) -> None:
        if threading.current_thread() is threading.main_thread():
            asyncio.get_running_loop().remove_signal_handler(signal.SIGHUP)

    def request(self) -> None:
        task = asyncio.get_running_loop().create_task(self.reload())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def reload(self) -> bool:
        async with self._lock:
            try:
                retired = await asyncio.to_thread(self._reload_now)
            except Exception as exc:  # a bad file, a source that does not open: keep what runs
                log.error(
                    "reload failed; templates and sources unchanged: %s",
                    exc,
                    extra={"action": "reload_error", "error": f"{type(exc).__name__}: {exc}"},
                )
                return False
            self.retired += retired
            self.reloads += 1
            return True

    def _reload_now(self) -> list[Source]:
        return reload_library(self.service, self.load())

    def close(self) -> None:
        for source in self.retired:
            source.close()
        self.retired.clear()
