"""JSON: one array of objects, ``[{...},\\n{...}]``, written incrementally.

Every row is rendered with a leading ``,\\n``; the very first row's is dropped when written,
so the file is valid without knowing in advance which row comes last.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from reportd.domain.formats import Format
from reportd.generation.formats.base import WriteContext
from reportd.generation.formats.jsonrows import json_key, json_rows
from reportd.generation.formats.text import TextWriter

_SEPARATOR = ",\n"


class JsonWriter(TextWriter):
    format = Format.JSON

    def __init__(self, path: Path, schema: pa.Schema, context: WriteContext) -> None:
        self._keys = [json_key(name) for name in schema.names]
        self._first = True
        super().__init__(path, schema, context)

    def header(self) -> bytes:
        return b"["

    def footer(self) -> bytes:
        return b"]\n"

    def render(self, batch: pa.RecordBatch) -> pa.Array:
        return json_rows(batch, self._keys, _SEPARATOR, "")

    def _emit(self, data: pa.Buffer) -> None:
        if self._first and data.size:
            data = data.slice(len(_SEPARATOR))
            self._first = False
        super()._emit(data)
