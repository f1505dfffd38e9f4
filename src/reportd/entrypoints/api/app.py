"""The FastAPI app factory: everything is built here from settings, nothing at import time."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from reportd import __version__
from reportd.app.authentication import KeyAuthenticator
from reportd.app.report_reads import ReportReads
from reportd.bootstrap import App, build_app, build_async_reads
from reportd.config import Settings, metrics_address
from reportd.entrypoints.api.bounds import BoundsMiddleware
from reportd.entrypoints.api.console import router as console_router
from reportd.entrypoints.api.dialects import include_dialects
from reportd.entrypoints.api.errors import install_error_handlers
from reportd.entrypoints.api.idempotency import IdempotencyMiddleware
from reportd.entrypoints.api.ratelimit import RateLimitHeadersMiddleware
from reportd.entrypoints.api.reloading import Reloader
from reportd.entrypoints.api.routes import (
    destinations,
    files,
    health,
    keys,
    me,
    oauth,
    reports,
    schedules,
    templates,
    webhooks,
)
from reportd.entrypoints.api.webhook_schemas import report_body
from reportd.entrypoints.startup import prepare
from reportd.entrypoints.worker import Worker
from reportd.obs.metrics import Metrics


def create_app(
    settings: Settings,
    *,
    core: App | None = None,
    workers: int | None = None,
    reloader: Callable[[], Settings] | None = None,
    process_index: int = 0,
) -> FastAPI:
    """``workers``: in-process worker slots (default from settings; 0 for an API-only process).

    ``reloader``: how to re-read the settings on SIGHUP (templates and sources are reloaded in
    place, see ``reloading``); None takes no signal. ``process_index``: this HTTP process's
    number under ``reportd serve --http-processes`` (its ``metrics_listen`` port offset).
    The workers of this process listen to the use cases' events (``reportd.app.events``): a
    report queued wakes them, a report canceled stops it at once if one of them runs it.
    """
    core = core or build_app(settings)
    slots = settings.worker.concurrency if workers is None else workers
    metrics = Metrics()
    metrics.watch_queue(core.store.queue)
    reload = Reloader(core, reloader) if reloader is not None else None
    reads = build_async_reads(core, settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        prepare(settings, core)
        if reads is not None:  # after prepare: the tables exist
            await reads.open()
            app.state.keys = KeyAuthenticator(reads)
            app.state.report_reads = ReportReads(reads)
        if settings.server.metrics_listen:
            host, port = metrics_address(settings.server.metrics_listen)
            metrics.serve(port + process_index, host)
        if reload is not None:
            reload.install()
        worker = None
        if slots > 0:
            worker = Worker(
                core,
                render=report_body,
                concurrency=slots,
                poll_interval=settings.worker.poll_interval,
                metrics=metrics,
            )
            worker.start()
        door = _start_grpc(settings, core, app)
        try:
            yield
        finally:
            if door is not None:
                door.stop()  # before the core closes: open calls still need it
            if worker is not None:
                worker.stop()
            if reload is not None:
                reload.uninstall()
                reload.close()
            if reads is not None:
                await reads.close()
            core.close()

    app = FastAPI(
        title="reportd",
        version=__version__,
        description="Self-hosted, multi-tenant, asynchronous report service.",
        lifespan=lifespan,
    )
    app.state.core = core
    app.state.settings = settings
    app.state.metrics = metrics
    app.state.reloader = reload
    app.state.keys = None  # set once the async reads are open (lifespan)
    app.state.report_reads = None
    install_error_handlers(app)
    app.add_middleware(RateLimitHeadersMiddleware)
    if core.idempotency is not None:  # a replay skips the whole app
        app.add_middleware(IdempotencyMiddleware, store=core.idempotency)
    app.add_middleware(BoundsMiddleware)  # outermost: no parser sees what breaks a bound
    for router in (
        reports.router,
        schedules.router,
        templates.router,
        files.router,
        health.router,
        webhooks.router,
        destinations.router,
        me.router,
        keys.router,
        oauth.router,
        console_router,
    ):
        app.include_router(router)
    include_dialects(app, settings.dialects.enabled)
    return app


def _start_grpc(settings: Settings, core: App, app: FastAPI) -> Any:
    """The SpaceONE gRPC door beside HTTP when ``[grpc] listen`` is set (grpcio loaded then)."""
    app.state.grpc = None
    if settings.grpc.listen is None:
        return None
    from reportd.entrypoints.grpc.server import start_grpc

    app.state.grpc = start_grpc(settings, core)
    return app.state.grpc
