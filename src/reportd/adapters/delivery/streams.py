"""A file's chunks (``Download.open()``) as a read-only file object, for libraries that read."""

from __future__ import annotations

import io
from collections.abc import Iterator

__all__ = ["ChunkReader"]


class ChunkReader(io.RawIOBase):
    """Reads through an iterator of byte chunks once, front to back (boto3's uploads)."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._left = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        while not self._left:
            try:
                self._left = next(self._chunks)
            except StopIteration:
                return 0
        size = min(len(buffer), len(self._left))
        buffer[:size] = self._left[:size]
        self._left = self._left[size:]
        return size
