"""Artifacts in an S3-compatible bucket (AWS S3, SeaweedFS, MinIO, ...), over boto3.

boto3 is the optional ``reportd[s3]`` extra and is imported only when an S3 storage is built.
Uploads go through boto3's managed transfer: a multipart upload above the threshold, made
visible only by CompleteMultipartUpload once every part is in, and aborted on any failure,
so no partial object is ever readable. Downloads are handed to the client as presigned GET
links carrying the file name and type.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from reportd.adapters.storage.base import (
    DEFAULT_CHUNK_SIZE,
    ArtifactStorage,
    ClosingIterator,
    check_range_args,
    content_disposition,
    validate_key,
    validate_prefix,
)
from reportd.domain.errors import ArtifactNotFound, RangeNotSatisfiable, StorageUnavailable

__all__ = ["MAX_PRESIGN_SECONDS", "S3Storage"]

MAX_PRESIGN_SECONDS = 7 * 24 * 3600  # SigV4's limit
_DELETE_BATCH = 1000  # DeleteObjects' limit
_NOT_FOUND_CODES = frozenset({"NoSuchKey", "404", "NotFound"})


def _import_boto3() -> Any:
    try:
        import boto3
    except ImportError as exc:
        raise ImportError(
            "S3 storage needs boto3, which is not installed: pip install 'reportd[s3]'"
        ) from exc
    return boto3


class S3Storage(ArtifactStorage):
    """A bucket, optionally under a key prefix. Credentials left None come from the usual
    AWS chain (``AWS_ACCESS_KEY_ID``, ... , instance roles)."""

    def __init__(
        self,
        id: str,
        bucket: str,
        prefix: str = "",
        endpoint_url: str | None = None,
        region: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        *,
        session_token: str | None = None,
        presign_endpoint_url: str | None = None,
        multipart_threshold: int = 8 << 20,
        multipart_chunksize: int = 8 << 20,
        max_concurrency: int = 4,
        connect_timeout: float = 5.0,
        read_timeout: float = 60.0,
        max_attempts: int = 3,
        proxies: dict[str, str] | None = None,
    ) -> None:
        self._boto3 = _import_boto3()  # fail at start-up, not on the first report
        if not bucket:
            raise ValueError(f"storage {id!r}: an S3 storage needs a bucket")
        self.id = id
        self.bucket = bucket
        self.prefix = _normalise_prefix(prefix)
        self.endpoint_url = endpoint_url
        self.presign_endpoint_url = presign_endpoint_url
        self._credentials = (access_key_id, secret_access_key, session_token)
        self._region = region
        self._client_config: dict[str, Any] = {
            "connect_timeout": connect_timeout,
            "read_timeout": read_timeout,
            "retries": {"max_attempts": max_attempts, "mode": "standard"},
        }
        if proxies is not None:  # {}: none, not even HTTP(S)_PROXY from the environment
            self._client_config["proxies"] = proxies
        self._transfer = {
            "multipart_threshold": multipart_threshold,
            "multipart_chunksize": multipart_chunksize,
            "max_concurrency": max_concurrency,
        }
        self._lock = threading.Lock()
        self._clients: dict[str | None, Any] = {}

    # -- writing ---------------------------------------------------------------------------

    def put_file(self, key: str, source: Path) -> int:
        object_key = self._object_key(key)
        from boto3.s3.transfer import TransferConfig

        config = TransferConfig(use_threads=True, **self._transfer)
        with source.open("rb") as src, self._translate():
            self.client.upload_fileobj(src, self.bucket, object_key, Config=config)
        return self.size(key)

    # -- reading ---------------------------------------------------------------------------

    def open_range(
        self,
        key: str,
        start: int = 0,
        end: int | None = None,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
    ) -> Iterator[bytes]:
        check_range_args(start, end, chunk_size)
        params = {"Bucket": self.bucket, "Key": self._object_key(key)}
        if start != 0 or end is not None:
            params["Range"] = f"bytes={start}-{'' if end is None else end}"
        with self._translate():
            response = self.client.get_object(**params)
        body = response["Body"]
        return ClosingIterator(self._stream(body, chunk_size), body.close)

    def _stream(self, body: Any, chunk_size: int) -> Iterator[bytes]:
        with self._translate():
            yield from body.iter_chunks(chunk_size)

    def size(self, key: str) -> int:
        with self._translate():
            head = self.client.head_object(Bucket=self.bucket, Key=self._object_key(key))
        return int(head["ContentLength"])

    def exists(self, key: str) -> bool:
        try:
            self.size(key)
        except ArtifactNotFound:
            return False
        return True

    def list_keys(self, prefix: str = "") -> list[str]:
        validate_prefix(prefix)
        return sorted(obj["Key"][len(self.prefix) :] for obj in self._objects(prefix))

    def _objects(self, prefix: str) -> Iterator[dict[str, Any]]:
        paginator = self.client.get_paginator("list_objects_v2")
        with self._translate():
            for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix + prefix):
                yield from page.get("Contents", [])

    def presigned_url(
        self, key: str, *, filename: str, mime_type: str, expires_in: int
    ) -> str | None:
        if not 1 <= expires_in <= MAX_PRESIGN_SECONDS:
            raise ValueError(f"expires_in must be 1..{MAX_PRESIGN_SECONDS} s, got {expires_in}")
        params = {
            "Bucket": self.bucket,
            "Key": self._object_key(key),
            "ResponseContentDisposition": content_disposition(filename),
            "ResponseContentType": mime_type,
        }
        client = self._client_for(self.presign_endpoint_url or self.endpoint_url)
        with self._translate():
            url: str = client.generate_presigned_url(
                "get_object", Params=params, ExpiresIn=expires_in
            )
        return url

    # -- deleting --------------------------------------------------------------------------

    def delete(self, key: str) -> None:
        with self._translate():
            self.client.delete_object(Bucket=self.bucket, Key=self._object_key(key))

    def delete_prefix(self, prefix: str) -> int:
        keys = [obj["Key"] for obj in self._objects(self._require_prefix(prefix))]
        for start in range(0, len(keys), _DELETE_BATCH):
            self._delete_batch(keys[start : start + _DELETE_BATCH])
        return len(keys)

    def _delete_batch(self, object_keys: list[str]) -> None:
        objects = [{"Key": k} for k in object_keys]
        with self._translate():
            response = self.client.delete_objects(
                Bucket=self.bucket, Delete={"Objects": objects, "Quiet": True}
            )
        if response.get("Errors"):
            first = response["Errors"][0]
            raise StorageUnavailable(
                f"storage {self.id!r} could not delete {len(response['Errors'])} object(s), "
                f"first {first.get('Key')!r}: {first.get('Code')}"
            )

    def purge_incomplete(self, older_than: float = 3600.0) -> int:
        """Abort multipart uploads a killed process left open (they hold storage, unseen)."""
        cutoff = time.time() - older_than
        paginator = self.client.get_paginator("list_multipart_uploads")
        aborted = 0
        with self._translate():
            for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix):
                for upload in page.get("Uploads", []):
                    if upload["Initiated"].timestamp() < cutoff:
                        self.client.abort_multipart_upload(
                            Bucket=self.bucket, Key=upload["Key"], UploadId=upload["UploadId"]
                        )
                        aborted += 1
        return aborted

    def check(self) -> None:
        with self._translate(not_found_is_unavailable=True):
            self.client.head_bucket(Bucket=self.bucket)

    # -- helpers ---------------------------------------------------------------------------

    @property
    def client(self) -> Any:
        """The boto3 client (thread-safe), made on first use: nothing connects at start."""
        return self._client_for(self.endpoint_url)

    def _client_for(self, endpoint_url: str | None) -> Any:
        with self._lock:
            if endpoint_url not in self._clients:
                self._clients[endpoint_url] = self._make_client(endpoint_url)
            return self._clients[endpoint_url]

    def _make_client(self, endpoint_url: str | None) -> Any:
        from botocore.config import Config

        access_key_id, secret_access_key, session_token = self._credentials
        session = self._boto3.session.Session(
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            aws_session_token=session_token,
            region_name=self._region,
        )
        config = Config(
            # Path style and SigV4, else presigned URLs come out in the old, host-style form.
            signature_version="s3v4",
            s3={"addressing_style": "path"},
            # Flexible checksums (aws-chunked) are an AWS extension many S3-compatibles lack.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
            **self._client_config,
        )
        region = session.region_name or "us-east-1"
        return session.client("s3", endpoint_url=endpoint_url, region_name=region, config=config)

    def _object_key(self, key: str) -> str:
        return self.prefix + validate_key(key)

    @contextlib.contextmanager
    def _translate(self, *, not_found_is_unavailable: bool = False) -> Iterator[None]:
        """Turn botocore's errors into reportd's, keeping the cause for the logs."""
        from botocore.exceptions import (
            ClientError,
            HTTPClientError,
            NoCredentialsError,
            PartialCredentialsError,
        )
        from botocore.exceptions import ConnectionError as BotoConnectionError

        unreachable = (
            BotoConnectionError,
            HTTPClientError,
            NoCredentialsError,
            PartialCredentialsError,
        )
        try:
            yield
        except ClientError as exc:
            raise self._client_error(exc, not_found_is_unavailable) from exc
        except unreachable as exc:
            raise StorageUnavailable(f"storage {self.id!r} is unreachable") from exc

    def _client_error(self, exc: Any, not_found_is_unavailable: bool) -> Exception:
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code in _NOT_FOUND_CODES and not not_found_is_unavailable:
            return ArtifactNotFound()
        if code == "InvalidRange" or status == 416:
            return RangeNotSatisfiable("The requested range starts beyond the end of the file.")
        return StorageUnavailable(f"storage {self.id!r} refused the request: {code or status}")

    def __repr__(self) -> str:
        return f"S3Storage(id={self.id!r}, bucket={self.bucket!r}, prefix={self.prefix!r})"


def _normalise_prefix(prefix: str) -> str:
    """A non-empty prefix names a folder: ``reports`` and ``reports/`` both mean ``reports/``."""
    prefix = prefix.strip("/")
    if not prefix:
        return ""
    validate_prefix(prefix)
    return prefix + "/"
