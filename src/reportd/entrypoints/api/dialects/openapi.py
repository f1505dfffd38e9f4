"""``GET /openapi/{dialect}.json``: one OpenAPI document per enabled dialect.

Why apart from ``/openapi.json``: a dialect's users want the routes of the system they know,
not reportd's native API beside four others; and the fuzz suite (schemathesis in CI) takes
each dialect's routes from its own document. The document is made from exactly the routes
``include_dialects`` served for that dialect (``app.state.dialect_routes``), once per process.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.openapi.utils import get_openapi

from reportd import __version__
from reportd.domain.errors import RouteNotFound

router = APIRouter(tags=["openapi"])


@router.get("/openapi/{dialect}.json", include_in_schema=False)
def dialect_openapi(dialect: str, request: Request) -> dict[str, Any]:
    routes = getattr(request.app.state, "dialect_routes", {}).get(dialect)
    if routes is None:
        raise RouteNotFound(f"no dialect {dialect!r} is enabled on this server")
    made: dict[str, dict[str, Any]] = request.app.state.__dict__.setdefault("dialect_openapi", {})
    if dialect not in made:
        made[dialect] = get_openapi(
            title=f"reportd: the {dialect} dialect",
            version=__version__,
            description=f"The {dialect} API as reportd serves it (see docs/api.md).",
            routes=routes,
        )
    return made[dialect]
