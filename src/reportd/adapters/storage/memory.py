"""An in-memory storage: the fake unit tests use instead of patching the real ones.

It keeps the whole contract (key rules, atomic puts, ranges, errors), so code tested
against it behaves the same on local disk or S3. ``set_available(False)`` makes every call
raise StorageUnavailable, to test what callers do when storage goes away.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

from reportd.adapters.storage.base import (
    DEFAULT_CHUNK_SIZE,
    ArtifactStorage,
    check_range_args,
    resolve_range,
    validate_key,
    validate_prefix,
)
from reportd.domain.errors import ArtifactNotFound, StorageUnavailable

__all__ = ["MemoryStorage"]

_READ_CHUNK = 1 << 20


class MemoryStorage(ArtifactStorage):
    """Objects in a dict, guarded by a lock so worker threads can share one instance."""

    def __init__(self, id: str = "memory") -> None:
        self.id = id
        self._objects: dict[str, bytes] = {}
        self._lock = threading.Lock()
        self._available = True

    def set_available(self, available: bool) -> None:
        """Simulate the backend going away (False) and coming back (True)."""
        self._available = available

    def put_bytes(self, key: str, data: bytes) -> int:
        """Store ``data`` directly; a test convenience with put_file's semantics."""
        validate_key(key)
        self._ensure_available()
        with self._lock:
            self._objects[key] = bytes(data)
        return len(data)

    def put_file(self, key: str, source: Path) -> int:
        validate_key(key)
        self._ensure_available()
        parts: list[bytes] = []
        with source.open("rb") as src:
            while chunk := src.read(_READ_CHUNK):
                parts.append(chunk)
        # Only a fully read source is published: a failing read leaves the key untouched.
        return self.put_bytes(key, b"".join(parts))

    def open_range(
        self,
        key: str,
        start: int = 0,
        end: int | None = None,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
    ) -> Iterator[bytes]:
        check_range_args(start, end, chunk_size)
        data = self._get(key)
        first, stop = resolve_range(len(data), start, end)
        return _chunks(data, first, stop, chunk_size)

    def size(self, key: str) -> int:
        return len(self._get(key))

    def exists(self, key: str) -> bool:
        validate_key(key)
        self._ensure_available()
        with self._lock:
            return key in self._objects

    def delete(self, key: str) -> None:
        validate_key(key)
        self._ensure_available()
        with self._lock:
            self._objects.pop(key, None)

    def delete_prefix(self, prefix: str) -> int:
        self._require_prefix(prefix)
        self._ensure_available()
        with self._lock:
            doomed = [key for key in self._objects if key.startswith(prefix)]
            for key in doomed:
                del self._objects[key]
        return len(doomed)

    def list_keys(self, prefix: str = "") -> list[str]:
        validate_prefix(prefix)
        self._ensure_available()
        with self._lock:
            return sorted(key for key in self._objects if key.startswith(prefix))

    def check(self) -> None:
        self._ensure_available()

    def _get(self, key: str) -> bytes:
        validate_key(key)
        self._ensure_available()
        with self._lock:
            data = self._objects.get(key)
        if data is None:
            raise ArtifactNotFound()
        return data

    def _ensure_available(self) -> None:
        if not self._available:
            raise StorageUnavailable(f"storage {self.id!r} is unavailable (simulated)")


def _chunks(data: bytes, start: int, stop: int, chunk_size: int) -> Iterator[bytes]:
    view = memoryview(data)
    for offset in range(start, stop, chunk_size):
        yield bytes(view[offset : min(offset + chunk_size, stop)])
