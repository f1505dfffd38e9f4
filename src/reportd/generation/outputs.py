"""One format's output of a run: its writer, split into numbered parts when the template asks.

A template's ``max_rows_per_file`` cuts parts at an exact row count; ``max_bytes_per_file``
cuts at the first batch boundary after a part reaches the size (writers stream, so the
size is known only as they go). Batches are sliced so a part never overshoots by more than
``_SLICE`` rows.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from reportd.domain.formats import Format
from reportd.generation.formats.base import FormatWriter, WriteContext
from reportd.generation.formats.registry import open_writer

_SLICE = 8_192  # rows per slice when a byte limit is set


@dataclass(frozen=True, slots=True)
class WrittenPart:
    format: Format
    path: Path
    rows: int
    index: int  # 1-based


class FormatOutput:
    def __init__(
        self,
        fmt: Format,
        workdir: Path,
        schema: pa.Schema,
        context: WriteContext,
        *,
        max_rows: int | None = None,
        max_bytes: int | None = None,
    ) -> None:
        self.format = fmt
        self.workdir = workdir
        self.schema = schema
        self.context = context
        self.max_rows = max_rows
        self.max_bytes = max_bytes
        self.parts: list[WrittenPart] = []
        self._writer: FormatWriter | None = None

    def write(self, batch: pa.RecordBatch) -> None:
        offset = 0
        while offset < batch.num_rows:
            writer = self._current()
            take = batch.num_rows - offset
            if self.max_rows is not None:
                take = min(take, self.max_rows - writer.rows)
            if self.max_bytes is not None:
                take = min(take, _SLICE)
            writer.write(batch.slice(offset, take))
            offset += take
            if self._part_full(writer):
                self._close_part()

    def close(self) -> list[WrittenPart]:
        if self._writer is not None or not self.parts:
            self._current()  # an empty result still makes one (empty) file
            self._close_part()
        return self.parts

    def abort(self) -> None:
        """Release the writer after a failure; the work directory is thrown away."""
        writer, self._writer = self._writer, None
        if writer is not None:
            with contextlib.suppress(Exception):  # already failing: the first error matters
                writer.close()

    def _current(self) -> FormatWriter:
        if self._writer is None:
            index = len(self.parts) + 1
            path = self.workdir / f"out-{self.format.value}-{index:03d}.{self.format.extension}"
            self._writer = open_writer(self.format, path, self.schema, self.context)
        return self._writer

    def _part_full(self, writer: FormatWriter) -> bool:
        if self.max_rows is not None and writer.rows >= self.max_rows:
            return True
        if self.max_bytes is not None and writer.path.exists():
            return writer.path.stat().st_size >= self.max_bytes
        return False

    def _close_part(self) -> None:
        writer, self._writer = self._writer, None
        if writer is None:
            return
        writer.close()
        index = len(self.parts) + 1
        self.parts.append(WrittenPart(self.format, writer.path, writer.rows, index))
