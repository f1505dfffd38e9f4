"""Compatible API dialects: one module per seed system, each exporting a FastAPI ``router``.

The registry maps a dialect's name (as in ``[dialects] enabled``) to its module, imported only
when the dialect is switched on, so a disabled dialect costs nothing at start-up.
``dialect_router`` (``routing.router_with_errors``) builds a dialect's router so that every error
on its routes (authentication and request validation included) is in the dialect's own body.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
from collections.abc import Iterable

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute

from reportd.entrypoints.api.dialects.openapi import router as openapi_router
from reportd.entrypoints.api.dialects.routing import (
    DialectRouter,
    ErrorRenderer,
    PrefixRenderers,
    register_paths,
    register_prefixes,
    router_with_errors,
)
from reportd.entrypoints.api.token_endpoint import render_oauth_error

__all__ = ["DIALECTS", "ErrorRenderer", "dialect_router", "include_dialects", "load_router"]

log = logging.getLogger("reportd.entrypoints.api.dialects")
dialect_router = router_with_errors

NATIVE_TOKEN_PATHS = ("/oauth/token",)  # reportd's own token endpoint (routes/oauth.py)
DIALECTS: dict[str, str] = {
    "digicert": "reportd.entrypoints.api.dialects.digicert",
    "spaceone": "reportd.entrypoints.api.dialects.spaceone",
    "getbill": "reportd.entrypoints.api.dialects.getbill",
    "spectra": "reportd.entrypoints.api.dialects.spectra",
    "pingone": "reportd.entrypoints.api.dialects.pingone",
}


def load_router(name: str) -> APIRouter:
    """The router of dialect ``name``, its module imported now; KeyError for an unknown name."""
    module = importlib.import_module(DIALECTS[name])
    router: APIRouter = module.router
    return router


def include_dialects(app: FastAPI, enabled: Iterable[str]) -> None:
    """Serve every enabled dialect whose module is installed; register the path prefixes
    whose errors (unknown routes and methods included) it renders (``routing.renderer_for``)."""
    table: PrefixRenderers = []
    app.state.dialect_prefixes = table
    served: dict[str, list[BaseRoute]] = {}
    app.state.dialect_routes = served  # each dialect's own OpenAPI document (``openapi.py``)
    for name in enabled:
        path = DIALECTS.get(name)
        if path is None or importlib.util.find_spec(path) is None:
            # Dialects land one by one; until a module exists its name serves nothing.
            log.warning("dialect not available", extra={"action": "dialect", "dialect": name})
            continue
        router = load_router(name)
        app.include_router(router)
        module = importlib.import_module(path)
        owners = getattr(module, "dialect_routers", (router,))  # a router made of several
        register_prefixes(table, [r for r in owners if isinstance(r, DialectRouter)])
        served[name] = list(router.routes)
        # Routes outside the prefix (token endpoints), erring in the RFC's shape unless the
        # dialect says otherwise (Spectra's DRF login).
        render_root = getattr(module, "root_render_error", render_oauth_error)
        for extra in getattr(module, "root_routers", ()):
            app.include_router(extra)
            served[name].extend(extra.routes)
            paths = [r.path for r in extra.routes if isinstance(r, APIRoute)]
            register_paths(table, paths, render_root)
    register_paths(table, NATIVE_TOKEN_PATHS, render_oauth_error)
    app.include_router(openapi_router)
