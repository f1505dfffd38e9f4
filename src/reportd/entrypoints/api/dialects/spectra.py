"""ReversingLabs Spectra Analyze PDF Report API: ``GET /api/pdf/{hash}/create|status|download``.

The rules (hash kinds, the row lookup, one live PDF per exact hash, its life) live in
:mod:`reportd.app.subjects`; this module only translates, into Django REST framework's error
bodies and the document's status numbers. Where the document is silent (errors, status
numbers, hash case, ``/api-token-auth/``): docs/dialects.md, "ReversingLabs Spectra Analyze".
"""

from __future__ import annotations

import json
from typing import Annotated, Final
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from reportd.app.subjects import (
    MalformedSubjectKey,
    NoSubjectReport,
    SubjectNotFound,
    SubjectState,
)
from reportd.config import DialectSettings
from reportd.domain.errors import (
    AuthenticationFailed,
    Forbidden,
    MethodNotAllowed,
    ReportdError,
    RouteNotFound,
)
from reportd.domain.models import Principal
from reportd.entrypoints.api.auth import core_of, key_from_headers, principal
from reportd.entrypoints.api.dialects.routing import router_with_errors
from reportd.entrypoints.api.downloads import stream_download

NOT_PROVIDED: Final = "Authentication credentials were not provided."
INVALID_TOKEN: Final = "Invalid token."  # noqa: S105 - a message, not a secret
STATUS: Final = {
    SubjectState.PENDING: (0, "PDF is being created. Please wait."),
    SubjectState.MISSING: (1, "PDF does not exist and must be created."),
    SubjectState.READY: (2, "PDF is ready for download."),
    SubjectState.FAILED: (3, "There was an error creating the PDF."),
}
# The document's 404 and 403 messages, by the domain error they stand for (first match wins).
_DETAILS: Final[tuple[tuple[type[ReportdError], int, str], ...]] = (
    (MalformedSubjectKey, 404, "Malformed hash."),
    (SubjectNotFound, 404, "Sample does not exist on the appliance."),
    (NoSubjectReport, 404, "PDF does not exist."),
    (Forbidden, 403, "You do not have permission to perform this action."),
)


def _error_body(request: Request, exc: ReportdError) -> Response:
    """DRF's body; a failed login is 403 with the message for what the client sent."""
    if isinstance(exc, AuthenticationFailed):
        given = key_from_headers(request) is not None
        return JSONResponse({"detail": INVALID_TOKEN if given else NOT_PROVIDED}, status_code=403)
    if isinstance(exc, RouteNotFound):
        return JSONResponse({"detail": "Not found."}, status_code=404)
    if isinstance(exc, MethodNotAllowed):
        method = f'Method "{request.method}" not allowed.'
        return JSONResponse({"detail": method}, status_code=405)
    for kind, status, detail in _DETAILS:
        if isinstance(exc, kind):
            return JSONResponse({"detail": detail}, status_code=status)
    return JSONResponse({"detail": exc.message}, status_code=exc.status)


router = router_with_errors(
    prefix="/api/pdf",
    tag="dialect: Spectra Analyze PDF report",
    render_error=_error_body,
    error_prefixes=("/api",),
)
Caller = Annotated[Principal, Depends(principal)]


def _settings(request: Request) -> DialectSettings:
    return request.app.state.settings.dialects  # type: ignore[no-any-return]


@router.get("/{sample_hash}/create")
def create_pdf(sample_hash: str, caller: Caller, request: Request) -> dict[str, str]:
    settings = _settings(request)
    core_of(request).subjects.request_report(
        caller,
        settings.spectra_template,
        sample_hash,
        formats=("pdf",),
        ttl=settings.spectra_pdf_ttl,
    )
    return {
        "status_endpoint": f"/api/pdf/{sample_hash}/status",
        "download_endpoint": f"/api/pdf/{sample_hash}/download",
    }


@router.get("/{sample_hash}/status")
def pdf_status(sample_hash: str, caller: Caller, request: Request) -> dict[str, int | str]:
    found = core_of(request).subjects.status(
        caller, _settings(request).spectra_template, sample_hash
    )
    number, message = STATUS[found.state]
    return {"status": number, "status_message": message}


@router.get(
    "/{sample_hash}/download",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
def download_pdf(sample_hash: str, caller: Caller, request: Request) -> Response:
    found = core_of(request).subjects.open_download(
        caller, _settings(request).spectra_template, sample_hash, "pdf"
    )
    return stream_download(found, request)


# -- sign-in: DRF's obtain_auth_token, which the SDK's A1000(username=, password=) calls ---------

REFUSED: Final = "Unable to log in with provided credentials."
REQUIRED: Final = "This field is required."
token_router = APIRouter(tags=["dialect: Spectra Analyze PDF report"])
root_routers = (token_router,)
root_render_error = _error_body  # DRF's {"detail"} on the login route too


async def _credentials(request: Request) -> dict[str, str]:
    """The body as DRF reads it: a form or a JSON object (anything else reads as empty)."""
    body = await request.body()
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    try:
        if kind == "application/json":
            parsed = json.loads(body or b"{}")
            return {k: v for k, v in parsed.items() if isinstance(v, str)}
        return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=16))
    except (ValueError, AttributeError):
        return {}


@token_router.post("/api-token-auth/", summary="Spectra Analyze: obtain an API token")
async def api_token_auth(request: Request) -> Response:
    """``username`` and ``password`` -> ``{"token": ...}``; DRF's 400 bodies otherwise."""
    given = await _credentials(request)
    missing = {f: [REQUIRED] for f in ("username", "password") if not given.get(f)}
    if missing:
        return JSONResponse(missing, status_code=400)
    users = core_of(request).users
    if users is None:
        return JSONResponse({"non_field_errors": [REFUSED]}, status_code=400)
    try:
        token = await run_in_threadpool(users.sign_in, given["username"], given["password"])
    except AuthenticationFailed:
        return JSONResponse({"non_field_errors": [REFUSED]}, status_code=400)
    return JSONResponse({"token": token})
