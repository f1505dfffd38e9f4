"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import hmac
import os
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool

from reportd.config import Settings
from reportd.domain.errors import AuthenticationFailed
from reportd.entrypoints.api.auth import core_of, key_from_headers
from reportd.obs.metrics import CONTENT_TYPE_LATEST, Metrics

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str | int]:
    """Alive; ``process`` is the answering process's id (several share a port under
    ``reportd serve --http-processes``)."""
    return {"status": "ok", "process": os.getpid()}


@router.get("/readyz")
async def readyz(request: Request) -> dict[str, Any]:
    """503 ``unavailable`` with ``details.down`` naming each dependency that is down."""
    checks = await run_in_threadpool(core_of(request).readiness.check)
    return {"status": "ok", **checks}


@router.get("/metrics", response_class=Response)
def metrics(request: Request) -> Response:
    """This process's registry: made by the app factory, see ``reportd.obs.metrics``.

    ``[server] metrics_token`` makes it require ``Authorization: Bearer TOKEN`` (401 without);
    with ``[server] metrics_listen`` it is served on that address only, and 404 here.
    """
    settings: Settings = request.app.state.settings
    if settings.server.metrics_listen:
        return Response(status_code=404)
    expected = settings.server.metrics_token
    if expected:
        given = key_from_headers(request) or ""
        if not hmac.compare_digest(given.encode(), expected.encode()):
            raise AuthenticationFailed("/metrics needs the metrics token as a bearer token")
    exported: Metrics = request.app.state.metrics
    return Response(exported.render(), media_type=CONTENT_TYPE_LATEST)
