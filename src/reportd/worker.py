"""Workers: claim reports, run them, keep their leases alive, stop them on cancel or timeout.

The same class runs inside ``reportd serve`` (threads beside the API) and as
``reportd worker`` (its own process). Each slot is a thread: DuckDB, pyarrow and the
zip/hash code release the GIL for the heavy work, so threads are enough on one machine
and processes on many.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid

from reportd.domain.errors import ReportCanceled, ReportTimedOut
from reportd.domain.models import Report
from reportd.pipeline import RunControl
from reportd.service import ReportService

log = logging.getLogger("reportd.worker")


class Worker:
    def __init__(
        self,
        service: ReportService,
        *,
        concurrency: int = 2,
        poll_interval: float = 0.5,
        worker_id: str | None = None,
    ) -> None:
        self.service = service
        self.concurrency = concurrency
        self.poll_interval = poll_interval
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        lease = service.run_options.lease_seconds
        self.heartbeat_interval = max(0.05, min(0.5, lease / 3))
        self._stopping = threading.Event()
        self._wake = threading.Condition()
        self._threads: list[threading.Thread] = []
        self._running: dict[str, RunControl] = {}
        self._lock = threading.Lock()

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> None:
        for index in range(self.concurrency):
            thread = threading.Thread(
                target=self._slot, name=f"reportd-worker-{index}", daemon=True
            )
            thread.start()
            self._threads.append(thread)
        reaper = threading.Thread(target=self._reaper, name="reportd-reaper", daemon=True)
        reaper.start()
        self._threads.append(reaper)
        if self.service.webhooks is not None:  # every worker process delivers webhooks
            dispatcher = self.service.webhooks.dispatcher(self.worker_id)
            hooks = threading.Thread(
                target=dispatcher.loop, args=(self._stopping,), name="reportd-webhooks", daemon=True
            )
            hooks.start()
            self._threads.append(hooks)
        log.info("worker started", extra={"action": "worker_start", "worker": self.worker_id})

    def wake(self) -> None:
        """Tell idle slots there may be work (called when a report is created in-process)."""
        with self._wake:
            self._wake.notify_all()

    def stop(self, drain_seconds: float = 10.0) -> None:
        """Stop claiming; let running reports finish for ``drain_seconds``, hand back the rest."""
        self._stopping.set()
        self.wake()
        deadline = time.monotonic() + drain_seconds
        while self.running_ids() and time.monotonic() < deadline:
            time.sleep(0.05)
        with self._lock:
            leftovers = dict(self._running)
        for control in leftovers.values():
            control.hand_back = True
            control.stop(ReportCanceled)
        for thread in self._threads:
            thread.join(timeout=5)
        log.info("worker stopped", extra={"action": "worker_stop", "worker": self.worker_id})

    def cancel_local(self, report_id: str) -> None:
        """Stop a report this process is running now, without waiting for its heartbeat."""
        with self._lock:
            control = self._running.get(report_id)
        if control is not None:
            control.stop(ReportCanceled)

    def running_ids(self) -> list[str]:
        with self._lock:
            return list(self._running)

    # -- the loops -----------------------------------------------------------------------

    def _slot(self) -> None:
        while not self._stopping.is_set():
            try:
                report = self.service.claim(self.worker_id)
            except Exception:
                log.exception("claim failed", extra={"action": "claim_error"})
                report = None
            if report is None:
                with self._wake:
                    self._wake.wait(self.poll_interval)
                continue
            self.run(report)

    def run(self, report: Report) -> None:
        control = RunControl(deadline=self.service.deadline(report))
        with self._lock:
            self._running[report.id] = control
        watchdog = threading.Thread(
            target=self._watch, args=(report, control), name="reportd-watchdog", daemon=True
        )
        watchdog.start()
        extra = {"action": "run", "report_id": report.id, "worker": self.worker_id}
        log.info("report started", extra=extra)
        try:
            state = self.service.run_report(report, self.worker_id, control)
            log.info("report ended", extra={**extra, "action": "end", "state": state.value})
        except Exception:
            log.exception("report crashed", extra=extra)
        finally:
            with self._lock:
                self._running.pop(report.id, None)
            watchdog.join(timeout=2)

    def _watch(self, report: Report, control: RunControl) -> None:
        """Renew the lease; stop the run on cancel, timeout or a lost lease."""
        while True:
            with self._lock:
                if report.id not in self._running:
                    return
            if control.deadline is not None and time.time() > control.deadline:
                control.stop(ReportTimedOut)
            try:
                beat = self.service.heartbeat(report.id, self.worker_id, control)
            except Exception:
                log.exception("heartbeat failed", extra={"report_id": report.id})
            else:
                if not beat.alive or beat.cancel_requested:
                    control.stop(ReportCanceled)
            time.sleep(self.heartbeat_interval)

    def _reaper(self) -> None:
        """Housekeeping every process with workers shares: leases, schedules, retention.

        Each step is safe to run in many processes at once (see the store modules).
        """
        interval = max(0.5, min(1.0, self.service.run_options.lease_seconds / 2))
        steps = (
            ("reap", self.service.reap),
            ("schedules", self._fire_schedules),
            ("retention", self.service.expire_due),
        )
        while not self._stopping.wait(interval):
            for name, step in steps:
                try:
                    step()
                except Exception:
                    log.exception("%s failed", name, extra={"action": f"{name}_error"})

    def _fire_schedules(self) -> None:
        if self.service.schedules.fire_due():
            self.wake()
