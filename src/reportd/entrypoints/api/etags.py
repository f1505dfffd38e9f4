"""``ETag`` / ``If-None-Match`` on JSON reads: a poll that finds nothing new gets a bodiless 304.

The tag is a hash of the exact body bytes, so it changes whenever anything shown changes
(state, progress, artifacts) and never otherwise; no version column is needed. The read still
happens (the tag is of the current row); what a 304 saves is the body on the wire and the
client's parsing. If-None-Match compares weakly, as RFC 9110 asks (``W/`` is ignored).
"""

from __future__ import annotations

import hashlib
from typing import Any

from fastapi import Request, Response

NOT_MODIFIED: dict[int | str, dict[str, Any]] = {
    304: {"description": "Not modified: the If-None-Match tag is current"}
}
_CACHE_CONTROL = "private, no-cache"  # clients may keep it, but must revalidate each time


def etag_of(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'


def matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    tags = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
    return "*" in tags or etag in tags


def json_with_etag(request: Request, body: bytes) -> Response:
    """``body`` as application/json with its ETag, or a 304 if the client has it already."""
    etag = etag_of(body)
    headers = {"ETag": etag, "Cache-Control": _CACHE_CONTROL}
    if matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)
