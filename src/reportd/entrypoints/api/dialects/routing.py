"""A dialect router whose every route renders its errors in the dialect's own body.

Why a route class and not a router dependency: FastAPI parses a JSON body before it runs any
dependency, so a malformed body would otherwise come out in the native error shape. The class
sets ``request.state.error_handler``, which the app's exception handlers (``api/errors.py``) use
for domain errors and request validation errors alike.

What no route of the dialect sees (an unknown path or a wrong method under its prefix) is
matched by path: ``DialectRouter.error_prefixes`` are registered on the app by
``include_dialects`` and ``renderer_for`` finds the dialect whose prefix a path is under.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Coroutine, Iterable, Sequence
from functools import partial
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.routing import APIRoute

from reportd.domain.errors import ReportdError

__all__ = ["DialectRouter", "ErrorRenderer", "PrefixRenderers", "router_with_errors"]

ErrorRenderer = Callable[[Request, ReportdError], Response]
PrefixRenderers = list[tuple[re.Pattern[str], ErrorRenderer]]


class DialectRouter(APIRouter):
    """A dialect's router, which knows its error renderer and the path prefixes it owns."""

    render_error: ErrorRenderer
    error_prefixes: tuple[str, ...]


def router_with_errors(
    *, prefix: str, tag: str, render_error: ErrorRenderer, error_prefixes: Sequence[str] = ()
) -> DialectRouter:
    """A router under ``prefix``, tagged ``tag``, erring through ``render_error``, and owning
    the errors of every path under ``error_prefixes`` (default: ``prefix``); a ``{param}``
    segment of a prefix matches any one segment."""
    router = DialectRouter(prefix=prefix, tags=[tag], route_class=_route_class(render_error))
    router.render_error = render_error
    router.error_prefixes = tuple(error_prefixes) or (prefix,)
    return router


def prefix_pattern(prefix: str) -> re.Pattern[str]:
    """``/v1/environments/{env_id}`` -> a pattern for that path and everything under it."""
    parts = re.split(r"\{[^}/]+\}", prefix.rstrip("/"))
    body = "[^/]+".join(re.escape(p) for p in parts)
    return re.compile(f"^{body}(?:/|$)")


def register_prefixes(table: PrefixRenderers, routers: Iterable[DialectRouter]) -> None:
    for router in routers:
        for prefix in router.error_prefixes:
            if prefix:
                table.append((prefix_pattern(prefix), router.render_error))


def register_paths(table: PrefixRenderers, paths: Iterable[str], render: ErrorRenderer) -> None:
    """Routes outside any dialect's prefix (token endpoints) whose errors ``render`` shapes."""
    for path in paths:
        table.append((prefix_pattern(path), render))


def renderer_for(table: PrefixRenderers, path: str) -> ErrorRenderer | None:
    for pattern, render in table:
        if pattern.match(path):
            return render
    return None


def _route_class(render_error: ErrorRenderer) -> type[APIRoute]:
    class DialectRoute(APIRoute):
        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            handler = super().get_route_handler()

            async def route(request: Request) -> Response:
                request.state.error_handler = partial(render_error, request)
                return await handler(request)

            return route

    return DialectRoute
