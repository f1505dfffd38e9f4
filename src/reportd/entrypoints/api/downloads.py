"""Streaming an artifact over HTTP with ``Range``, ``ETag`` (its sha256) and a filename."""

from __future__ import annotations

import re

from fastapi import Request
from fastapi.responses import Response, StreamingResponse

from reportd.adapters.storage.base import content_disposition
from reportd.app.downloads import Download
from reportd.domain.errors import RangeNotSatisfiable
from reportd.entrypoints.api.errors import render

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The one byte range asked for (inclusive), None for the whole file."""
    if not header:
        return None
    match = _RANGE.match(header.strip())
    if match is None or (not match.group(1) and not match.group(2)):
        return None  # unsupported forms (e.g. several ranges) get the whole file, per RFC 9110
    # A position of more digits than any file's size has is past every end: compared as
    # text, never given to int() (whose limit is 4,300 digits; a 500 before this check).
    first, last = (_capped(group, size) for group in match.groups())
    if not first:
        length = int(last)
        if length == 0:
            raise RangeNotSatisfiable()
        return max(0, size - length), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or end < start:
        raise RangeNotSatisfiable(f"range {header} is outside the file of {size} bytes")
    return start, end


def _capped(digits: str, size: int) -> str:
    """``digits``, or a number just past ``size`` when it has more digits than ``size``."""
    return str(size + 1) if len(digits) > len(str(size)) + 1 else digits


def stream_download(download: Download, request: Request) -> Response:
    artifact = download.artifact
    etag = f'"{artifact.sha256}"'
    headers = {
        "ETag": etag,
        "Accept-Ranges": "bytes",
        "Content-Disposition": content_disposition(artifact.filename),
        "Cache-Control": "private, max-age=0",
    }
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    wanted = request.headers.get("range")
    if_range = request.headers.get("if-range")
    if if_range is not None and if_range != etag:
        wanted = None
    try:
        span = parse_range(wanted, artifact.size)
    except RangeNotSatisfiable as exc:
        response = render(request, exc)  # in the dialect's body on a dialect's route
        response.headers["Content-Range"] = f"bytes */{artifact.size}"
        return response
    if span is None:
        headers["Content-Length"] = str(artifact.size)
        body = download.open()
        return StreamingResponse(body, media_type=artifact.mime_type, headers=headers)
    start, end = span
    headers["Content-Range"] = f"bytes {start}-{end}/{artifact.size}"
    headers["Content-Length"] = str(end - start + 1)
    body = download.open(start, end)
    return StreamingResponse(body, status_code=206, media_type=artifact.mime_type, headers=headers)
