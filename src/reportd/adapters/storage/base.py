"""The one interface every artifact store implements, and the rules they share.

A storage holds finished artifacts under *keys*: relative, ``/``-separated paths chosen by
reportd (never by a client), such as ``tenant/report-id/orders-2026-01-01.csv``. Key rules are
checked here, once, so a bad key fails the same way on every backend.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

from reportd.domain.errors import RangeNotSatisfiable

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "MAX_KEY_LENGTH",
    "RESERVED_PREFIX",
    "ArtifactStorage",
    "ClosingIterator",
    "InvalidKeyError",
    "check_range_args",
    "content_disposition",
    "resolve_range",
    "validate_key",
    "validate_prefix",
]

DEFAULT_CHUNK_SIZE = 1 << 20
MAX_KEY_LENGTH = 1024  # S3's limit; local paths stay well under PATH_MAX with it.
RESERVED_PREFIX = ".tmp"  # local storage keeps in-flight uploads there; no key may use it.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class InvalidKeyError(ValueError):
    """A storage key or prefix breaks the key rules.

    A ValueError, not a domain error: keys come from reportd itself, so a bad one is a bug
    (or an attack through an unchecked value) and must not look like a client mistake.
    """


def _check_segments(text: str, *, what: str, allow_trailing_slash: bool) -> None:
    """Reject every form that could escape the storage root or alias another key."""
    if len(text) > MAX_KEY_LENGTH:
        raise InvalidKeyError(f"storage {what} is longer than {MAX_KEY_LENGTH} characters")
    if text.startswith("/"):
        raise InvalidKeyError(f"storage {what} must be relative (no leading '/'): {text!r}")
    if "\\" in text:
        raise InvalidKeyError(f"storage {what} must not contain a backslash: {text!r}")
    if _CONTROL.search(text):
        raise InvalidKeyError(f"storage {what} must not contain control characters: {text!r}")
    segments = text.split("/")
    if allow_trailing_slash and segments[-1] == "":
        segments = segments[:-1]
    for segment in segments:
        if segment in ("", ".", ".."):
            raise InvalidKeyError(
                f"storage {what} must not contain empty, '.' or '..' segments: {text!r}"
            )
    if segments and segments[0] == RESERVED_PREFIX:
        raise InvalidKeyError(f"storage {what} must not start with {RESERVED_PREFIX!r}: {text!r}")


def validate_key(key: str) -> str:
    """Return ``key`` if it is a valid object key, else raise InvalidKeyError."""
    if not isinstance(key, str) or not key:
        raise InvalidKeyError(f"storage key must be a non-empty string, got {key!r}")
    _check_segments(key, what="key", allow_trailing_slash=False)
    return key


def validate_prefix(prefix: str) -> str:
    """Return ``prefix`` if valid. A prefix is a plain string prefix of keys, as in S3.

    ``"a/b"`` matches ``a/b/c`` and ``a/bc``; end it with ``/`` to mean one folder.
    """
    if not isinstance(prefix, str):
        raise InvalidKeyError(f"storage prefix must be a string, got {prefix!r}")
    if prefix:
        _check_segments(prefix, what="prefix", allow_trailing_slash=True)
    return prefix


def check_range_args(start: int, end: int | None, chunk_size: int) -> None:
    """Reject ranges no file could satisfy before any I/O is done."""
    if chunk_size <= 0:
        raise ValueError(f"chunk_size must be positive, got {chunk_size}")
    if start < 0 or (end is not None and end < start):
        raise RangeNotSatisfiable(f"invalid byte range {start}-{'' if end is None else end}")


def resolve_range(size: int, start: int, end: int | None) -> tuple[int, int]:
    """Turn an HTTP-style inclusive range into ``(start, stop)`` with ``stop`` exclusive.

    ``end`` past the last byte is clamped, as HTTP does. A start at or past the end of the
    file is unsatisfiable, except the plain full read (``0``, ``None``), which is how an
    empty file is read.
    """
    if start == 0 and end is None:
        return 0, size
    if start >= size:
        raise RangeNotSatisfiable(f"range starts at byte {start} of a {size}-byte file")
    stop = size if end is None else min(end + 1, size)
    return start, stop


def content_disposition(filename: str) -> str:
    """An ``attachment`` header value that survives any Unicode filename (RFC 6266/5987).

    The quoted ASCII ``filename`` is for old clients; ``filename*`` carries the real name.
    """
    fallback = filename.encode("ascii", "replace").decode("ascii").replace("?", "_")
    fallback = fallback.replace("\\", "_").replace('"', "_")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


class ClosingIterator(Iterator[bytes]):
    """Chunks of an object already opened, releasing it when exhausted, failed, closed,
    or dropped unread.

    ``open_range`` opens eagerly (so the size and the bytes come from the same version of
    the object and errors surface before headers are sent); a plain generator would leak
    that handle when a client disconnects before the first chunk.
    """

    def __init__(self, chunks: Iterator[bytes], close: Callable[[], None]) -> None:
        self._chunks = chunks
        self._close: Callable[[], None] | None = close

    def __next__(self) -> bytes:
        try:
            return next(self._chunks)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        close, self._close = self._close, None
        if close is not None:
            close()

    def __del__(self) -> None:
        self.close()


class ArtifactStorage(ABC):
    """Where artifacts live. Implementations: local, s3, memory (see ``registry``).

    Every method validates its key and raises ArtifactNotFound for a missing one, and
    StorageUnavailable when the backend cannot be reached, so callers handle one set of
    errors whatever is configured.
    """

    id: str

    @abstractmethod
    def put_file(self, key: str, source: Path) -> int:
        """Store the file at ``source`` (read through ``source.open("rb")``) under ``key``.

        Atomic: readers see the old object or the whole new one, never a part; a failure
        leaves nothing new visible. Returns the stored size in bytes.
        """

    @abstractmethod
    def open_range(
        self,
        key: str,
        start: int = 0,
        end: int | None = None,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
    ) -> Iterator[bytes]:
        """Stream bytes ``start..end`` (inclusive, like HTTP ``Range``; ``None`` = to the end).

        Missing keys and unsatisfiable ranges raise at call time, not on the first
        ``next()``, so the HTTP layer can answer 404/416 before it sends headers.
        """

    @abstractmethod
    def size(self, key: str) -> int:
        """Size of the object in bytes."""

    @abstractmethod
    def exists(self, key: str) -> bool:
        """Whether an object is stored under ``key``."""

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove the object; deleting a missing key is not an error (retries are safe)."""

    @abstractmethod
    def delete_prefix(self, prefix: str) -> int:
        """Remove every object whose key starts with ``prefix``; returns how many.

        The prefix must not be empty: wiping a whole storage is never what reportd means.
        """

    @abstractmethod
    def list_keys(self, prefix: str = "") -> list[str]:
        """Every key starting with ``prefix``, sorted."""

    def local_path(self, key: str) -> Path | None:
        """The object's real file path, so the HTTP layer can use sendfile; None if the
        backend has no files (the default)."""
        validate_key(key)
        return None

    def presigned_url(
        self, key: str, *, filename: str, mime_type: str, expires_in: int
    ) -> str | None:
        """A URL the client downloads from directly, or None to serve through reportd's own
        signed link (the default). Signing is offline: it does not check the key exists."""
        validate_key(key)
        return None

    def purge_incomplete(self, older_than: float = 3600.0) -> int:
        """Remove leftovers of uploads that never finished (a killed process) and are older
        than ``older_than`` seconds; returns how many. For ``reportd gc``."""
        return 0

    @abstractmethod
    def check(self) -> None:
        """Raise StorageUnavailable unless the storage can be read and written (/readyz)."""

    @staticmethod
    def _require_prefix(prefix: str) -> str:
        validate_prefix(prefix)
        if not prefix:
            raise InvalidKeyError("delete_prefix needs a non-empty prefix")
        return prefix

    def __repr__(self) -> str:
        return f"{type(self).__name__}(id={self.id!r})"
