"""Webhook destinations: each file POSTed to the tenant's URL, signed like every webhook.

The body is the file's bytes (``Content-Type`` its type); the signature headers are the
webhooks' (``reportd.domain.webhook_signatures.signed_headers``: reportd's own
``Reportd-Signature``, the Standard Webhooks ``webhook-id``/``-timestamp``/``-signature``, or
both, as the destination's ``signature`` says), keyed by the destination's secret. The
``webhook-id`` is the same on every retry of one file, so a receiver de-duplicates on it.
A file is signed whole, so it is held in memory: files over ``max_bytes`` are refused (an
S3 or SFTP destination takes any size). Connections go through the outbound policy's
transport, as the webhooks' do, and redirects are not followed.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping

import httpx

from reportd.adapters.guarded_http import GuardedTransport
from reportd.adapters.outbound import AddressGuard
from reportd.app.deliveries import Parcel
from reportd.domain.destinations import TOO_BIG_FOR_WEBHOOK, Destination
from reportd.domain.errors import DeliveryFailed
from reportd.domain.webhook_signatures import DEFAULT_SCHEME, signed_headers

__all__ = ["WebhookSender"]

_NAMESPACE = uuid.UUID("6c1b4f2e-2f0e-4d4b-9a51-6e2a3f8d9c10")


class WebhookSender:
    def __init__(
        self,
        guard: AddressGuard,
        timeout: float = 60.0,
        max_bytes: int = 100 * 1024 * 1024,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.max_bytes = max_bytes
        self._http = httpx.Client(
            timeout=timeout,
            follow_redirects=False,
            trust_env=False,
            transport=transport or GuardedTransport(guard),
        )

    def send(self, destination: Destination, secrets: Mapping[str, str], parcel: Parcel) -> None:
        url = str(destination.config["url"])
        scheme = str(destination.config.get("signature") or DEFAULT_SCHEME)
        for download in parcel.files:
            artifact = download.artifact
            if artifact.size > self.max_bytes:
                raise DeliveryFailed(
                    f"{artifact.filename} is {artifact.size} bytes, over the webhook "
                    f"destination's {self.max_bytes}: use an S3 or SFTP destination",
                    shown=TOO_BIG_FOR_WEBHOOK,
                )
            body = b"".join(download.open())
            message_id = str(uuid.uuid5(_NAMESPACE, f"{destination.id}/{artifact.storage_key}"))
            headers = {
                "Content-Type": artifact.mime_type,
                "Content-Disposition": f'attachment; filename="{artifact.filename}"',
                "User-Agent": "reportd-deliveries",
                "Reportd-Report": parcel.report.id,
                "Reportd-Sha256": artifact.sha256,
                **signed_headers(
                    scheme,
                    secrets["secret"],
                    message_id=message_id,
                    timestamp=int(time.time()),
                    body=body,
                ),
            }
            try:
                response = self._http.post(url, content=body, headers=headers)
            except httpx.HTTPError as exc:
                raise DeliveryFailed(f"POST {url}: {type(exc).__name__}: {exc}") from exc
            if not 200 <= response.status_code < 300:
                raise DeliveryFailed(f"POST {url}: HTTP {response.status_code}")
