"""Build a storage from its ``[storage.NAME]`` settings, by ``type``.

Unknown types and unknown settings are refused by name, so a typo in the config fails at
start-up instead of silently falling back to a default.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from reportd.adapters.storage.base import ArtifactStorage

__all__ = ["STORAGE_TYPES", "build_storage"]

_S3_SETTINGS = frozenset(
    {
        "bucket",
        "prefix",
        "endpoint_url",
        "region",
        "access_key_id",
        "secret_access_key",
        "session_token",
        "presign_endpoint_url",
        "multipart_threshold",
        "multipart_chunksize",
        "max_concurrency",
        "connect_timeout",
        "read_timeout",
        "max_attempts",
    }
)


def _given(settings: Mapping[str, Any]) -> dict[str, Any]:
    """Settings actually set: ``None`` (an unset env override) counts as absent."""
    return {k: v for k, v in settings.items() if k != "type" and v is not None}


def _refuse_unknown(storage_id: str, given: Mapping[str, Any], allowed: frozenset[str]) -> None:
    unknown = sorted(set(given) - allowed)
    if unknown:
        raise ValueError(
            f"storage {storage_id!r}: unknown setting(s) {', '.join(unknown)}; "
            f"expected some of {', '.join(sorted(allowed))}"
        )


def _build_local(storage_id: str, settings: Mapping[str, Any]) -> ArtifactStorage:
    from reportd.adapters.storage.local import LocalStorage

    given = _given(settings)
    _refuse_unknown(storage_id, given, frozenset({"path"}))
    if not given.get("path"):
        raise ValueError(f"storage {storage_id!r} (type local) needs a 'path'")
    return LocalStorage(storage_id, Path(given["path"]).expanduser())


def _build_s3(storage_id: str, settings: Mapping[str, Any]) -> ArtifactStorage:
    from reportd.adapters.storage.s3 import S3Storage

    given = _given(settings)
    _refuse_unknown(storage_id, given, _S3_SETTINGS)
    if not given.get("bucket"):
        raise ValueError(f"storage {storage_id!r} (type s3) needs a 'bucket'")
    return S3Storage(storage_id, **given)


def _build_memory(storage_id: str, settings: Mapping[str, Any]) -> ArtifactStorage:
    from reportd.adapters.storage.memory import MemoryStorage

    _refuse_unknown(storage_id, _given(settings), frozenset())
    return MemoryStorage(storage_id)


STORAGE_TYPES: Mapping[str, Callable[[str, Mapping[str, Any]], ArtifactStorage]] = {
    "local": _build_local,
    "s3": _build_s3,
    "memory": _build_memory,
}


def build_storage(id: str, settings: Mapping[str, Any]) -> ArtifactStorage:
    """The storage ``id`` as its settings describe it (``type`` defaults to local)."""
    kind = settings.get("type") or "local"
    builder = STORAGE_TYPES.get(kind)
    if builder is None:
        raise ValueError(
            f"storage {id!r}: unknown type {kind!r}; expected one of {', '.join(STORAGE_TYPES)}"
        )
    return builder(id, settings)
