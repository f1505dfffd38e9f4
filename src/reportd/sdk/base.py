"""What ``Client`` and ``AsyncClient`` share: every request is built here, once.

Each public method of the two clients asks this base for a ``Call`` (the request and how to
read its answer) and only sends it, so the two cannot disagree on paths, parameters, headers
or answers; only the I/O loops are written twice (as httpx's ``BaseClient`` does).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

import httpx

from reportd import __version__
from reportd.sdk.call import JSON, Call, json_body, no_body
from reportd.sdk.download import Download
from reportd.sdk.errors import error_from_response

DEFAULT_TIMEOUT = 30.0


class BaseClient:
    """Request building and answer checking, shared by ``Client`` and ``AsyncClient``."""

    def __init__(self, base_url: str, api_key: str, *, timeout: float) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._headers = {
            "Authorization": f"Bearer {api_key}",
            "Accept": "application/json",
            "User-Agent": f"reportd-python/{__version__}",
        }

    def _stream_timeout(self, read_timeout: float | None) -> httpx.Timeout:
        return httpx.Timeout(self.timeout, read=read_timeout)

    def _checked(self, response: httpx.Response) -> httpx.Response:
        if response.is_error:
            raise error_from_response(response)
        return response

    # reports

    def _build_create_report(
        self, template_id: str, formats: list[str], idempotency_key: str | None, **body: Any
    ) -> Call[JSON]:
        payload = _without_none({"template_id": template_id, "formats": list(formats), **body})
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        return Call("POST", "/v1/reports", json_body, json=payload, headers=headers)

    def _build_get_report(self, report_id: str) -> Call[JSON]:
        return Call("GET", _report_path(report_id), json_body)

    def _build_list_reports(self, **filters: Any) -> Call[JSON]:
        return Call("GET", "/v1/reports", json_body, params=_without_none(filters))

    def _build_cancel(self, report_id: str) -> Call[JSON]:
        return Call("POST", _report_path(report_id, "/cancel"), json_body)

    def _build_delete(self, report_id: str) -> Call[None]:
        return Call("DELETE", _report_path(report_id), no_body)

    # templates

    def _build_list_templates(self) -> Call[JSON]:
        return Call("GET", "/v1/templates", json_body)

    def _build_get_template(self, template_id: str) -> Call[JSON]:
        return Call("GET", f"/v1/templates/{quote(template_id, safe='')}", json_body)

    def _build_create_template(self, definition: Mapping[str, Any]) -> Call[JSON]:
        return Call("POST", "/v1/templates", json_body, json=dict(definition))

    def _build_validate_template(self, definition: Mapping[str, Any]) -> Call[JSON]:
        return Call("POST", "/v1/templates/validate", json_body, json=dict(definition))

    def _build_update_template(
        self, template_id: str, changes: Mapping[str, Any], version: int | None
    ) -> Call[JSON]:
        headers = {"If-Match": f'"{version}"'} if version is not None else None
        path = f"/v1/templates/{quote(template_id, safe='')}"
        return Call("PATCH", path, json_body, json=dict(changes), headers=headers)

    def _build_delete_template(self, template_id: str) -> Call[None]:
        return Call("DELETE", f"/v1/templates/{quote(template_id, safe='')}", no_body)

    def _build_template_version(self, template_id: str, version: int) -> Call[JSON]:
        path = f"/v1/templates/{quote(template_id, safe='')}/versions/{int(version)}"
        return Call("GET", path, json_body)

    def _build_report_template(self, report_id: str) -> Call[JSON]:
        return Call("GET", _report_path(report_id, "/template"), json_body)

    def _build_preview(
        self,
        template_id: str,
        options: Mapping[str, Any] | None,
        fields: Sequence[str] | None,
        filter: str | None,
        order_by: Sequence[str] | None,
    ) -> Call[JSON]:
        body: dict[str, Any] = {"options": dict(options or {}), "order_by": list(order_by or ())}
        if fields is not None:
            body["fields"] = list(fields)
        if filter is not None:
            body["filter"] = filter
        path = f"/v1/templates/{quote(template_id, safe='')}/preview"
        return Call("POST", path, json_body, json=body)

    # webhooks

    def _build_create_webhook(
        self, url: str, events: list[str], signature: str | None
    ) -> Call[JSON]:
        body: dict[str, Any] = {"url": url, "events": list(events)}
        if signature is not None:
            body["signature"] = signature
        return Call("POST", "/v1/webhooks", json_body, json=body)

    def _build_update_webhook(self, webhook_id: str, signature: str) -> Call[JSON]:
        return Call("PATCH", _webhook_path(webhook_id), json_body, json={"signature": signature})

    def _build_list_webhooks(self) -> Call[JSON]:
        return Call("GET", "/v1/webhooks", json_body)

    def _build_get_webhook(self, webhook_id: str) -> Call[JSON]:
        return Call("GET", _webhook_path(webhook_id), json_body)

    def _build_delete_webhook(self, webhook_id: str) -> Call[None]:
        return Call("DELETE", _webhook_path(webhook_id), no_body)

    def _build_webhook_deliveries(
        self, webhook_id: str, limit: int | None, offset: int | None
    ) -> Call[JSON]:
        params = _without_none({"limit": limit, "offset": offset})
        return Call("GET", _webhook_path(webhook_id, "/deliveries"), json_body, params)

    def _build_callback_secret(self) -> Call[str]:
        return Call("GET", "/v1/webhooks/callback_secret", _secret)

    # destinations (docs/delivery.md): a flat body, the type's settings and secrets

    def _build_create_destination(self, type: str, name: str | None, fields: JSON) -> Call[JSON]:
        body = _without_none({"type": type, "name": name, **fields})
        return Call("POST", "/v1/destinations", json_body, json=body)

    def _build_update_destination(self, destination_id: str, fields: JSON) -> Call[JSON]:
        return Call("PATCH", _destination_path(destination_id), json_body, json=dict(fields))

    def _build_list_destinations(self) -> Call[JSON]:
        return Call("GET", "/v1/destinations", json_body)

    def _build_get_destination(self, destination_id: str) -> Call[JSON]:
        return Call("GET", _destination_path(destination_id), json_body)

    def _build_delete_destination(self, destination_id: str) -> Call[None]:
        return Call("DELETE", _destination_path(destination_id), no_body)

    # files

    def _build_download_url(self, report_id: str, fmt: str | None, part: int | None) -> Call[JSON]:
        params = _without_none({"format": fmt, "part": part})
        return Call("GET", _report_path(report_id, "/download_url"), json_body, params)

    def _build_download(
        self,
        report_id: str,
        dest: str | os.PathLike[str],
        link: JSON,
        fmt: str | None,
        part: int | None,
    ) -> Download:
        """The download of the file ``link`` (the answer of ``download_url``) describes."""
        params = _without_none({"format": fmt, "part": part})
        call = Call("GET", _report_path(report_id, "/download"), no_body, params)
        return Download.start(call, dest, link)

    # progress

    def _build_events(self, report_id: str) -> Call[None]:
        headers = {"Accept": "text/event-stream"}
        return Call("GET", _report_path(report_id, "/events"), no_body, headers=headers)


def _report_path(report_id: str, suffix: str = "") -> str:
    return f"/v1/reports/{quote(report_id, safe='')}{suffix}"


def _webhook_path(webhook_id: str, suffix: str = "") -> str:
    return f"/v1/webhooks/{quote(webhook_id, safe='')}{suffix}"


def _destination_path(destination_id: str) -> str:
    return f"/v1/destinations/{quote(destination_id, safe='')}"


def _without_none(values: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


def _secret(response: httpx.Response) -> str:
    return str(json_body(response)["secret"])
