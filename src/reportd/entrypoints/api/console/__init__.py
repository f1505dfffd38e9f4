"""The web console at ``/console``: static HTML, CSS and ES modules shipped in ``static/``.

No build step and no CDN: the browser loads ``index.html`` and the modules next to it, and
talks to the native API (``/v1``) with the key it keeps in session storage. Every console
answer carries a strict Content-Security-Policy, so the pages can reach only this server.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response

from reportd.entrypoints.api.problems import error_body

STATIC = Path(__file__).resolve().parent / "static"
_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
}
# 'self' only; blob: for the PDF preview, which is fetched from the signed link and shown
# from memory because the link answers "Content-Disposition: attachment".
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; frame-src 'self' blob:; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}

router = APIRouter(prefix="/console", include_in_schema=False)


def asset_names() -> frozenset[str]:
    """The files the console serves: exactly what ships in ``static/``, nothing by path."""
    return frozenset(p.name for p in STATIC.iterdir() if p.suffix in _TYPES)


def _file(name: str) -> Response:
    if name not in asset_names():
        body = error_body("not_found", "No such console file.")
        return JSONResponse(body, status_code=404, headers=HEADERS)
    path = STATIC / name
    return FileResponse(path, media_type=_TYPES[path.suffix], headers=HEADERS)


@router.get("")
def index() -> Response:
    return _file("index.html")


@router.get("/")
def index_slash() -> Response:
    return RedirectResponse("/console", status_code=308)


@router.get("/static/{name}")
def asset(name: str) -> Response:
    return _file(name)
