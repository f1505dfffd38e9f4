"""Every core: N HTTP processes sharing one port, report workers in processes of their own.

``reportd serve --http-processes N`` (or ``[server] processes = N``) makes this process a
supervisor. It binds the listening socket once and hands it to N HTTP processes (spawned, each
a uvicorn server with its own event loop, all accepting on the same socket, so the kernel
spreads connections and no port is ever closed while one of them restarts), plus
``[server] worker_processes`` report workers (each what ``reportd worker`` runs). It
restarts a child that dies (backing off when one keeps dying at start), forwards SIGHUP to
every child, and on SIGTERM or SIGINT asks each child to stop and waits for it.

SIGHUP means "re-read templates and sources" (``reportd.bootstrap.reload_library``), done in
place by every process: no process restarts, no connection is closed, a running report keeps
the source it started with. A file that does not load is logged and the old set stays.

Nothing here decides anything about reports; it only starts and stops processes.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reportd.config import Settings, load_settings

if TYPE_CHECKING:
    from reportd.adapters.sources.base import Source
    from reportd.bootstrap import App

log = logging.getLogger("reportd.processes")

RESTART_BACKOFF_FIRST = 0.5  # seconds before restarting a child that died soon after starting
RESTART_BACKOFF_MAX = 10.0
STABLE_AFTER = 10.0  # a child that lived this long restarts at once when it dies
STOP_MARGIN = 10.0  # seconds past graceful_timeout before a child that will not stop is killed
WORKER_INDEX_ENV = "REPORTD_WORKER_INDEX"  # systemd's reportd-worker@N sets it to N


@dataclass(frozen=True)
class SettingsRecipe:
    """How to (re)load this process's settings: the file, the CLI's overrides, [server] ones.

    Picklable, so a spawned child loads its settings the way its parent did, and a SIGHUP
    re-reads the same file with the same overrides on top.
    """

    config: Path | None = None
    overrides: dict[str, Any] = field(default_factory=dict)
    server: dict[str, Any] = field(default_factory=dict)

    def load(self) -> Settings:
        settings = load_settings(self.config, **self.overrides)
        update = {k: v for k, v in self.server.items() if v is not None}
        if not update:
            return settings
        return settings.model_copy(update={"server": settings.server.model_copy(update=update)})


# -- the children ------------------------------------------------------------------------


def http_process(recipe: SettingsRecipe, sock: socket.socket, index: int) -> None:
    """One HTTP process: the API app (no worker slots) served on the shared socket."""
    import uvicorn

    from reportd.entrypoints.api.app import create_app
    from reportd.obs.logs import configure_logging

    # SIGHUP stays blocked (the supervisor started us so) until the app's lifespan takes it
    # over; ignoring it here would drop one asked meanwhile.
    configure_logging()
    settings = recipe.load()
    app = create_app(settings, workers=0, reloader=recipe.load, process_index=index)
    config = uvicorn.Config(
        app,
        log_level="warning",
        lifespan="on",
        timeout_graceful_shutdown=int(settings.server.graceful_timeout),
    )
    uvicorn.Server(config).run(sockets=[sock])


def worker_process(
    recipe: SettingsRecipe,
    slots: int | None = None,
    index: int = 0,
    service: App | None = None,
) -> None:
    """Report worker slots until SIGTERM/SIGINT; SIGHUP reloads templates and sources.

    This is ``reportd worker`` (which passes the ``service`` it built and waited for). With
    ``[worker] metrics_port`` set, worker ``index`` serves its metrics on that port +
    ``index`` (each process is its own Prometheus target).
    """
    from reportd.bootstrap import build_app
    from reportd.entrypoints.api.webhook_schemas import report_body
    from reportd.entrypoints.startup import prepare
    from reportd.entrypoints.worker import Worker
    from reportd.obs.logs import configure_logging
    from reportd.obs.metrics import Metrics

    stop, reload = threading.Event(), threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    signal.signal(signal.SIGHUP, lambda *_: reload.set())
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGHUP})  # one asked meanwhile lands now
    configure_logging()
    settings = recipe.load()
    if service is None:
        service = build_app(settings)
        prepare(settings, service)
    metrics = Metrics()
    if settings.worker.metrics_port is not None:
        metrics.serve(settings.worker.metrics_port + index, settings.worker.metrics_host)
    running = Worker(
        service,
        render=report_body,
        concurrency=slots or settings.worker.concurrency,
        poll_interval=settings.worker.poll_interval,
        metrics=metrics,
    )
    retired: list[Source] = []
    running.start()
    # Wait in slices: a signal the kernel hands to another thread (a slot, DuckDB's) only
    # runs its Python handler once the main thread executes again.
    while not stop.wait(0.5):
        if reload.is_set():
            reload.clear()
            retired += _reload(partial(_reload_library, service, recipe))
    running.stop()
    for source in retired:
        source.close()
    service.close()


def _reload_library(service: App, recipe: SettingsRecipe) -> list[Source]:
    from reportd.bootstrap import reload_library

    return reload_library(service, recipe.load())


def _reload(step: Callable[[], list[Any]]) -> list[Any]:
    """Run a reload; a failure is logged and changes nothing (the old set keeps serving)."""
    try:
        return step()
    except Exception as exc:  # a bad file, a source that does not open: keep what runs
        log.error(
            "reload failed; templates and sources unchanged: %s",
            exc,
            extra={"action": "reload_error", "error": f"{type(exc).__name__}: {exc}"},
        )
        return []


def worker_index() -> int:
    """This worker's number: ``REPORTD_WORKER_INDEX`` (systemd instances), else 0."""
    raw = os.environ.get(WORKER_INDEX_ENV, "0")
    return int(raw) if raw.isdigit() else 0


# -- the supervisor ----------------------------------------------------------------------


@dataclass
class _Child:
    kind: str  # "http" | "worker"
    index: int
    process: BaseProcess | None = None
    started: float = 0.0
    backoff: float = RESTART_BACKOFF_FIRST
    not_before: float = 0.0


class Supervisor:
    """Starts, watches, reloads and stops the HTTP and worker children of ``reportd serve``."""

    def __init__(
        self,
        recipe: SettingsRecipe,
        settings: Settings,
        *,
        http_processes: int,
        worker_processes: int,
        worker_slots: int | None = None,
    ) -> None:
        self.recipe = recipe
        self.settings = settings
        self.worker_slots = worker_slots
        self.children = [_Child("http", i) for i in range(http_processes)]
        self.children += [_Child("worker", i) for i in range(worker_processes)]
        self._context = multiprocessing.get_context("spawn")
        self._signals: list[int] = []
        self._sock: socket.socket | None = None

    def run(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, lambda sig, _frame: self._signals.append(sig))
        self._sock = listen(self.settings.server.host, self.settings.server.port)
        http = sum(c.kind == "http" for c in self.children)
        log.warning(
            "serving on http://%s:%s with %d HTTP processes and %d worker processes",
            self.settings.server.host,
            self.settings.server.port,
            http,
            len(self.children) - http,
            extra={"action": "supervise", "pid": os.getpid()},
        )
        try:
            while self._tick():
                time.sleep(0.1)
        finally:
            self._stop_all()
            self._sock.close()

    def _tick(self) -> bool:
        """One pass: handle signals, (re)start children. False once asked to stop."""
        while self._signals:
            sig = self._signals.pop(0)
            if sig == signal.SIGHUP:
                self._forward(signal.SIGHUP)
            else:
                return False
        now = time.monotonic()
        for child in self.children:
            process = child.process
            if process is not None and process.is_alive():
                continue
            if process is not None:
                self._died(child, now)
            if now >= child.not_before:
                self._start(child)
        return True

    def _died(self, child: _Child, now: float) -> None:
        assert child.process is not None
        lived = now - child.started
        child.backoff = (
            RESTART_BACKOFF_FIRST
            if lived >= STABLE_AFTER
            else min(RESTART_BACKOFF_MAX, child.backoff * 2)
        )
        child.not_before = now + (0 if lived >= STABLE_AFTER else child.backoff)
        log.error(
            "%s process %d (pid %s) exited with %s after %.1f s; restarting",
            child.kind,
            child.index,
            child.process.pid,
            child.process.exitcode,
            lived,
            extra={"action": "child_died", "kind": child.kind},
        )
        child.process = None

    def _start(self, child: _Child) -> None:
        target: Callable[..., None]
        args: tuple[Any, ...]
        if child.kind == "http":
            target, args = http_process, (self.recipe, self._sock, child.index)
        else:
            target, args = worker_process, (self.recipe, self.worker_slots, child.index)
        process = self._context.Process(
            target=target, args=args, name=f"reportd-{child.kind}-{child.index}"
        )
        # The child starts with SIGHUP blocked (a signal mask survives fork and exec) and
        # unblocks it once it has a handler: a reload asked while it imports waits for it,
        # instead of killing it with SIGHUP's default action before it could reload.
        before = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGHUP})
        try:
            process.start()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, before)
        child.process, child.started = process, time.monotonic()

    def _forward(self, sig: int) -> None:
        log.warning("SIGHUP: reloading templates and sources in every process")
        for child in self.children:
            if child.process is not None and child.process.pid is not None:
                with contextlib.suppress(ProcessLookupError):  # it just died: restarted soon
                    os.kill(child.process.pid, sig)

    def _stop_all(self) -> None:
        self._forward_stop()
        deadline = time.monotonic() + self.settings.server.graceful_timeout + STOP_MARGIN
        for child in self.children:
            if child.process is None:
                continue
            child.process.join(max(0.0, deadline - time.monotonic()))
            if child.process.is_alive():
                log.error("%s process %d did not stop; killing it", child.kind, child.index)
                child.process.kill()
                child.process.join(5)

    def _forward_stop(self) -> None:
        for child in self.children:
            if child.process is not None and child.process.is_alive():
                child.process.terminate()  # SIGTERM: graceful in uvicorn and in the worker


def listen(host: str, port: int) -> socket.socket:
    """The one listening socket every HTTP process accepts on."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def serve_processes(
    recipe: SettingsRecipe,
    settings: Settings,
    *,
    http_processes: int,
    worker_processes: int,
    worker_slots: int | None = None,
) -> None:
    """Supervise the children; the caller has prepared the database (migrated, demo laid out)
    once, so the children do not race to do it."""
    Supervisor(
        recipe,
        settings,
        http_processes=http_processes,
        worker_processes=worker_processes,
        worker_slots=worker_slots,
    ).run()
