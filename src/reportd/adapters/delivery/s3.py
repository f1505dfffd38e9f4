"""S3 destinations: the tenant's own endpoint, bucket, prefix and credentials.

The upload is ``reportd.adapters.storage.s3.S3Storage``'s (boto3's managed transfer: a
multipart upload is made visible only once complete), over a client of the tenant's own
credentials, never the AWS credential chain of the operator's machine, and never through a
proxy from the environment (it would connect past the outbound policy). Each file goes to
``<prefix>/<report id>/<file name>``: a retry overwrites the same object, so a delivery that
was tried twice leaves one copy. The endpoint's host is checked by the outbound policy just
before the upload.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

from reportd.adapters.delivery.files import local_copy
from reportd.adapters.delivery.hosts import PolicyHostGuard
from reportd.app.deliveries import Parcel
from reportd.domain.destinations import Destination
from reportd.domain.errors import DeliveryFailed

__all__ = ["S3Sender", "object_key"]


def object_key(prefix: str, report_id: str, filename: str) -> str:
    return "/".join(part for part in (prefix.strip("/"), report_id, filename) if part)


class S3Sender:
    def __init__(self, guard: PolicyHostGuard, timeout: float = 60.0) -> None:
        self.guard = guard
        self.timeout = timeout

    def send(self, destination: Destination, secrets: Mapping[str, str], parcel: Parcel) -> None:
        from reportd.adapters.storage.s3 import S3Storage

        config = destination.config
        endpoint = str(config["endpoint_url"])
        parts = urlsplit(endpoint)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            self.guard.addresses(parts.hostname or "", port, "endpoint_url")
        except OSError as exc:
            raise DeliveryFailed(f"S3 endpoint {parts.hostname}: {exc}") from exc
        bucket = S3Storage(
            f"destination:{destination.id}",
            bucket=str(config["bucket"]),
            endpoint_url=endpoint,
            region=str(config.get("region") or "us-east-1"),
            access_key_id=str(config["access_key_id"]),
            secret_access_key=secrets.get("secret_access_key", ""),
            connect_timeout=min(self.timeout, 10.0),
            read_timeout=self.timeout,
            max_attempts=1,  # the delivery's own retries, with backoff, are the retries
            proxies={},  # an environment proxy would connect past the outbound policy
        )
        prefix = str(config.get("prefix") or "")
        for download in parcel.files:
            key = object_key(prefix, parcel.report.id, download.artifact.filename)
            with local_copy(download) as path:
                bucket.put_file(key, path)
