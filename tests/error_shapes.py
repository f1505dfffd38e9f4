"""Each door's error body, recognised by its shape (shared by the error-body and fuzz tests).

Native ``{"error": {code, message}}``; DigiCert ``{code, message, errors}``; getbill
``{error: true, message, code}``; Spectra (Django REST framework) ``{detail}``; PingOne
``{id, code, message}``; SpaceONE ``{detail: {code: "ERROR_...", message}}``; the token
endpoints RFC 6749's ``{error, error_description}``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

Shape = Callable[[dict[str, Any], int], None]


def native(body: dict[str, Any], status: int) -> None:
    assert set(body) == {"error"}, body
    assert {"code", "message"} <= set(body["error"]), body


def oauth(body: dict[str, Any], status: int) -> None:
    assert isinstance(body.get("error"), str), body
    assert isinstance(body.get("error_description"), str), body


def digicert(body: dict[str, Any], status: int) -> None:
    assert set(body) == {"code", "message", "errors"}, body
    assert body["errors"] == [{"code": body["code"], "message": body["message"]}]


def getbill(body: dict[str, Any], status: int) -> None:
    assert set(body) == {"error", "message", "code"}, body
    assert body["error"] is True
    assert body["code"] == status


def spectra(body: dict[str, Any], status: int) -> None:
    assert set(body) == {"detail"}, body
    assert isinstance(body["detail"], str)


def pingone(body: dict[str, Any], status: int) -> None:
    assert {"id", "code", "message"} <= set(body), body
    uuid.UUID(body["id"])
    assert body["code"].isupper()


def spaceone(body: dict[str, Any], status: int) -> None:
    assert set(body) == {"detail"}, body
    assert set(body["detail"]) == {"code", "message"}
    assert body["detail"]["code"].startswith("ERROR_")


def spaceone_console(body: dict[str, Any], status: int) -> None:
    """SpaceONE console-api's default error handler: ``{error: {message, code: ERROR_...}}``."""
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message"}, body
    assert body["error"]["code"].startswith("ERROR_"), body


def drf(body: dict[str, Any], status: int) -> None:
    """Django REST framework's login (Spectra's ``/api-token-auth/``): ``{detail}`` or its
    field errors, ``{"<field>": ["..."]}``."""
    if set(body) == {"detail"}:
        spectra(body, status)
        return
    assert body, body
    assert all(isinstance(v, list) and all(isinstance(m, str) for m in v) for v in body.values())
