"""``POST /oauth/token``: reportd's own OAuth 2.0 token endpoint (client credentials, refresh).

No refresh token is handed out here for a client credentials grant (RFC 6749 4.4.3: it
SHOULD NOT be); one handed out by getbill's door (``/token``) is accepted here too.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from reportd.entrypoints.api.token_endpoint import serve_token

router = APIRouter(tags=["oauth"])


@router.post(
    "/oauth/token",
    summary="OAuth 2.0 token endpoint",
    openapi_extra={
        "requestBody": {
            "content": {
                "application/x-www-form-urlencoded": {
                    "schema": {
                        "type": "object",
                        "required": ["grant_type"],
                        "properties": {
                            "grant_type": {"enum": ["client_credentials", "refresh_token"]},
                            "client_id": {"type": "string"},
                            "client_secret": {"type": "string"},
                            "scope": {"type": "string"},
                            "refresh_token": {"type": "string"},
                        },
                    }
                }
            },
            "required": True,
        }
    },
)
async def token(request: Request) -> Response:
    """Client credentials in the body or by HTTP Basic; RFC 6749's bodies either way."""
    return await serve_token(request)
