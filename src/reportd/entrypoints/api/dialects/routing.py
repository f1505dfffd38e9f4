"""A dialect router whose every route renders its errors in the dialect's own body.

Why a route class and not a router dependency: FastAPI parses a JSON body before it runs any
dependency, so a malformed body would otherwise come out in the native error shape. The class
sets ``request.state.error_handler``, which the app's exception handlers (``api/errors.py``) use
for domain errors and request validation errors alike.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from functools import partial
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.routing import APIRoute

from reportd.domain.errors import ReportdError

__all__ = ["ErrorRenderer", "router_with_errors"]

ErrorRenderer = Callable[[Request, ReportdError], Response]


def router_with_errors(*, prefix: str, tag: str, render_error: ErrorRenderer) -> APIRouter:
    """An ``APIRouter`` under ``prefix``, tagged ``tag``, erring through ``render_error``."""
    return APIRouter(prefix=prefix, tags=[tag], route_class=_route_class(render_error))


def _route_class(render_error: ErrorRenderer) -> type[APIRoute]:
    class DialectRoute(APIRoute):
        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            handler = super().get_route_handler()

            async def route(request: Request) -> Response:
                request.state.error_handler = partial(render_error, request)
                return await handler(request)

            return route

    return DialectRoute
