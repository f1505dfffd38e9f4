"""The streaming machinery every text writer (CSV, JSON, NDJSON) shares.

A text writer turns each batch into one contiguous run of bytes with Arrow compute kernels,
which release the GIL; so batches are rendered on a small thread pool while earlier ones are
written, in order. At most ``threads + 1`` batches are in flight, which keeps memory flat
whatever the row count.
"""

from __future__ import annotations

import os
from abc import abstractmethod
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import BinaryIO

import pyarrow as pa
import pyarrow.compute as pc

from reportd.generation.formats.base import FormatWriter, WriteContext
from reportd.generation.formats.render import string_data

# Rows rendered per task: big enough for the kernels to run at full speed, small enough that
# a few in flight stay a few megabytes and a string array's 32-bit offsets never overflow.
CHUNK_ROWS = 32_768
_MAX_DEFAULT_THREADS = 4


def default_threads() -> int:
    """Render threads when the context names none: the cores, up to a few."""
    return max(1, min(_MAX_DEFAULT_THREADS, os.cpu_count() or 1))


class TextWriter(FormatWriter):
    """A writer whose rows render to bytes independently of each other."""

    def __init__(self, path: Path, schema: pa.Schema, context: WriteContext) -> None:
        super().__init__(path, schema, context)
        threads = context.render_threads or default_threads()
        self._depth = threads + 1
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="reportd-render")
        self._pending: deque[Future[pa.Buffer]] = deque()
        self._file: BinaryIO = path.open("wb")
        self._closed = False
        self._file.write(self.header())

    def header(self) -> bytes:
        """Bytes before the first row."""
        return b""

    def footer(self) -> bytes:
        """Bytes after the last row."""
        return b""

    @abstractmethod
    def render(self, batch: pa.RecordBatch) -> pa.Array:
        """One string per row, each already terminated: their bytes joined are the output."""

    def write(self, batch: pa.RecordBatch) -> None:
        for offset in range(0, batch.num_rows, CHUNK_ROWS):
            chunk = batch.slice(offset, CHUNK_ROWS)
            self._pending.append(self._pool.submit(self._render_bytes, chunk))
            self.rows += chunk.num_rows
            while len(self._pending) >= self._depth:
                self._emit(self._pending.popleft().result())

    def _render_bytes(self, chunk: pa.RecordBatch) -> pa.Buffer:
        return string_data(self.render(chunk))

    def _emit(self, data: pa.Buffer) -> None:
        """Write one rendered chunk; subclasses may trim it (JSON's first separator)."""
        self._file.write(data)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            while self._pending:
                self._emit(self._pending.popleft().result())
            self._file.write(self.footer())
        finally:
            for future in self._pending:
                future.cancel()
            self._pool.shutdown(wait=True)
            self._file.close()


def suffix(column: pa.Array, text: str, null_text: str = "") -> pa.Array:
    """``column`` with ``text`` appended to each value, nulls becoming ``null_text``."""
    return pc.binary_join_element_wise(
        column, text, "", null_handling="replace", null_replacement=null_text
    )
