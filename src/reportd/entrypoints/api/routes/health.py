"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool

from reportd.entrypoints.api.auth import service_of
from reportd.obs.metrics import CONTENT_TYPE_LATEST, Metrics

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request) -> dict[str, Any]:
    """503 ``unavailable`` with ``details.down`` naming each dependency that is down."""
    checks = await run_in_threadpool(service_of(request).readiness)
    return {"status": "ok", **checks}


@router.get("/metrics", response_class=Response)
def metrics(request: Request) -> Response:
    """This process's registry: made by the app factory, see ``reportd.obs.metrics``."""
    exported: Metrics = request.app.state.metrics
    return Response(exported.render(), media_type=CONTENT_TYPE_LATEST)
