"""Signed downloads: the link's signature is the only credential."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from reportd.entrypoints.api.auth import core_of
from reportd.entrypoints.api.downloads import stream_download
from reportd.entrypoints.api.schemas import DOWNLOAD_RESPONSES, ErrorBody

router = APIRouter(tags=["files"])


@router.get(
    "/v1/files/{report_id}/{filename}",
    response_class=Response,
    responses={
        **DOWNLOAD_RESPONSES,
        400: {"model": ErrorBody},  # refused at the edge: a NUL or bad encoding in the query
        403: {"model": ErrorBody},
        404: {"model": ErrorBody},
        410: {"model": ErrorBody},
        416: {"model": ErrorBody},
    },
)
def signed_file(
    report_id: str,
    filename: str,
    request: Request,
    expires: str | None = None,
    signature: str | None = None,
) -> Response:
    found = core_of(request).downloads.open_signed(report_id, filename, expires, signature)
    return stream_download(found, request)
