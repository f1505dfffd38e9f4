"""Format -> writer class, by name, imported on first use.

Writers that need heavy optional libraries (XLSX, Parquet, PDF) import them inside their own
module, so ``import reportd`` stays light and only a report asking for them pays the cost.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import pyarrow as pa

from reportd.domain.errors import FormatInapplicable
from reportd.domain.formats import Format
from reportd.generation.formats.base import FormatWriter, WriteContext

_WRITERS: dict[Format, str] = {
    Format.CSV: "reportd.generation.formats.csv:CsvWriter",
    Format.JSON: "reportd.generation.formats.json:JsonWriter",
    Format.NDJSON: "reportd.generation.formats.ndjson:NdjsonWriter",
    Format.XLSX: "reportd.generation.formats.xlsx:XlsxWriter",
    Format.PARQUET: "reportd.generation.formats.parquet:ParquetWriter",
    Format.PDF: "reportd.generation.formats.pdf:PdfWriter",
}


def available_formats() -> tuple[Format, ...]:
    """The formats this build can write, in ``Format`` order."""
    return tuple(fmt for fmt in Format if fmt in _WRITERS)


def writer_class(fmt: Format | str) -> type[FormatWriter]:
    """The writer class of ``fmt``; ``FormatInapplicable`` when there is none (yet)."""
    target = _WRITERS.get(_as_format(fmt))
    if target is None:
        raise FormatInapplicable(f"format {fmt!s} cannot be written by this reportd")
    module_name, _, class_name = target.partition(":")
    cls: type[FormatWriter] = getattr(importlib.import_module(module_name), class_name)
    return cls


def open_writer(
    fmt: Format | str, path: Path, schema: pa.Schema, context: WriteContext
) -> FormatWriter:
    """A writer of ``fmt`` on ``path``; close it (or use it as a context manager)."""
    return writer_class(fmt)(path, schema, context)


def _as_format(fmt: Format | str) -> Format:
    try:
        return Format(fmt)
    except ValueError as exc:
        raise FormatInapplicable(f"unknown format {fmt!r}") from exc
