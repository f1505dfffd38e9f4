"""Workers: claim reports, run them, keep their leases alive, stop them on cancel or timeout.

The same class runs inside ``reportd serve`` (threads beside the API) and as
``reportd worker`` (its own process). Each slot is a thread: DuckDB, pyarrow and the
zip/hash code release the GIL for the heavy work, so threads are enough on one machine
and processes on many.

Idle slots wake when this process queues work (the ``work_queued`` event of
``reportd.app.events``) and, on PostgreSQL, on ``LISTEN/NOTIFY`` from other processes
(``reportd.adapters.db.listen``); they poll only as a slow fallback. When the database is
away every loop backs off and retries; nothing here dies of an outage, and a report whose
end could not be recorded is re-run once its lease runs out.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import threading
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING

from reportd.adapters.db.listen import QueueListener, listen_dsn
from reportd.app.generator import RunControl
from reportd.bootstrap import App
from reportd.domain.errors import ReportCanceled, ReportTimedOut, Unavailable
from reportd.domain.models import Report
from reportd.obs.logs import report_logging

if TYPE_CHECKING:
    from reportd.obs.metrics import Metrics

log = logging.getLogger("reportd.entrypoints.worker")

LISTEN_POLL_INTERVAL = 5.0  # the fallback poll while LISTEN/NOTIFY is up
MAX_ERROR_BACKOFF = 5.0


class Worker:
    def __init__(
        self,
        core: App,
        *,
        render: Callable[[Report], str],
        concurrency: int = 2,
        poll_interval: float = 0.5,
        worker_id: str | None = None,
        metrics: Metrics | None = None,
        listen: bool = True,
    ) -> None:
        """``render``: a webhook delivery's body (the API's report resource, ``report_body``)."""
        self.core = core
        self.runs = core.runs
        self.concurrency = concurrency
        self.poll_interval = poll_interval
        self.metrics = metrics
        self.render = render
        dsn = listen_dsn(core.database_url) if core.database_url else None
        self.listener = QueueListener(dsn, self.wake) if listen and dsn else None
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        lease = self.runs.options.lease_seconds
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
        if self.listener is not None:
            self.listener.start()
        self.core.events.work_queued.connect(self.wake)
        self.core.events.report_canceled.connect(self.cancel_local)
        dispatcher = self.core.new_dispatcher(self.worker_id, self.render)  # in every worker
        if self.metrics is not None:
            dispatcher.on_failure = self.metrics.webhook_failed
        hooks = threading.Thread(
            target=dispatcher.loop, args=(self._stopping,), name="reportd-webhooks", daemon=True
        )
        hooks.start()
        self._threads.append(hooks)
        deliveries = self.core.new_delivery_dispatcher(self.worker_id, self.render)
        if self.metrics is not None:
            deliveries.on_attempt = self.metrics.delivery_attempted
        sending = threading.Thread(
            target=deliveries.loop, args=(self._stopping,), name="reportd-deliveries", daemon=True
        )
        sending.start()
        self._threads.append(sending)
        log.info("worker started", extra={"action": "worker_start", "worker": self.worker_id})

    def wake(self) -> None:
        """Tell idle slots there may be work (a report queued in this process, a NOTIFY)."""
        with self._wake:
            self._wake.notify_all()

    def stop(self, drain_seconds: float = 10.0) -> None:
        """Stop claiming; let running reports finish for ``drain_seconds``, hand back the rest."""
        self._stopping.set()
        self.core.events.work_queued.disconnect(self.wake)
        self.core.events.report_canceled.disconnect(self.cancel_local)
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
        if self.listener is not None:
            self.listener.stop()
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
        failures = 0
        while not self._stopping.is_set():
            try:
                report = self.runs.claim(self.worker_id)
                failures = 0
            except Exception as exc:
                failures += 1
                _log_failure("claim failed", "claim_error", exc)
                self._stopping.wait(_backoff(failures))
                continue
            if report is None:
                with self._wake:
                    self._wake.wait(self._idle_wait())
                continue
            self.run(report)

    def _idle_wait(self) -> float:
        """Seconds an idle slot sleeps: long while notifications wake it, short otherwise."""
        if self.listener is not None and self.listener.active:
            return max(self.poll_interval, LISTEN_POLL_INTERVAL)
        return self.poll_interval

    def run(self, report: Report) -> None:
        with report_logging(report.id):
            self._run(report)

    def _run(self, report: Report) -> None:
        control = RunControl(deadline=self.runs.deadline(report))
        with self._lock:
            self._running[report.id] = control
        done = threading.Event()  # ends the watchdog at once, not after its next beat
        watchdog = threading.Thread(
            target=self._watch, args=(report, control, done), name="reportd-watchdog", daemon=True
        )
        watchdog.start()
        extra = {"action": "run", "report_id": report.id, "worker": self.worker_id}
        log.info("report started", extra={**extra, "attempt": report.attempts})
        started = time.perf_counter()
        try:
            state = self.runs.run_report(report, self.worker_id, control)
            log.info("report ended", extra={**extra, "action": "end", "state": state.value})
            if self.metrics is not None:
                took = time.perf_counter() - started
                self.metrics.observe_run(report, state, took, control.rows)
        except Exception as exc:  # its lease runs out and another attempt follows
            _log_failure("report run could not be recorded", "run_error", exc)
        finally:
            with self._lock:
                self._running.pop(report.id, None)
            done.set()
            watchdog.join(timeout=2)

    def _watch(self, report: Report, control: RunControl, done: threading.Event) -> None:
        with report_logging(report.id):
            self._renew(report, control, done)

    def _renew(self, report: Report, control: RunControl, done: threading.Event) -> None:
        """Renew the lease; stop the run on cancel, timeout or a lost lease.

        The claim has just set the lease, so the first beat waits one interval.
        """
        while not done.wait(self.heartbeat_interval):
            if control.deadline is not None and time.time() > control.deadline:
                control.stop(ReportTimedOut)
            try:
                beat = self.runs.heartbeat(report.id, self.worker_id, control)
            except Exception as exc:  # keep trying: the lease lasts a while
                _log_failure("heartbeat failed", "heartbeat_error", exc)
            else:
                if not beat.alive or beat.cancel_requested:
                    control.stop(ReportCanceled)

    def _reaper(self) -> None:
        """Housekeeping every process with workers shares: leases, schedules, retention.

        Each step is safe to run in many processes at once (see the store modules).
        """
        interval = max(0.5, min(1.0, self.runs.options.lease_seconds / 2))
        steps = (
            ("reap", self._reap),
            ("schedules", self._fire_schedules),
            ("retention", self.runs.expire_due),
        )
        failures = 0
        while not self._stopping.wait(interval + _backoff(failures)):
            failures = 0
            for name, step in steps:
                try:
                    step()
                except Exception as exc:
                    failures += 1
                    _log_failure(f"{name} failed", f"{name}_error", exc)
                    if isinstance(exc, Unavailable):
                        break  # the next steps would fail the same way

    def _reap(self) -> None:
        result = self.runs.reap()
        expired = len(result.requeued) + len(result.failed) + len(result.canceled)
        if self.metrics is not None and expired:
            self.metrics.lease_expiries.inc(expired)
        if result.requeued or result.retried:
            self.wake()

    def _fire_schedules(self) -> None:
        self.core.schedules.fire_due()  # raises work_queued when it made reports


def _backoff(failures: int) -> float:
    """0 after a success; then 0.25 s doubling to ``MAX_ERROR_BACKOFF``, with jitter."""
    if failures <= 0:
        return 0.0
    delay: float = min(MAX_ERROR_BACKOFF, 0.25 * 2.0 ** (failures - 1))
    return delay * random.uniform(0.8, 1.2)


def _log_failure(message: str, action: str, exc: Exception) -> None:
    """An outage is expected and logged in one line; anything else with its traceback."""
    if isinstance(exc, Unavailable):
        log.warning("%s: %s", message, exc.message, extra={"action": action})
    else:
        log.error(message, exc_info=exc, extra={"action": action})
