"""NDJSON: one JSON object per line, ``\\n``-terminated (values rendered as in JSON)."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from reportd.domain.formats import Format
from reportd.generation.formats.base import WriteContext
from reportd.generation.formats.jsonrows import json_key, json_rows
from reportd.generation.formats.text import TextWriter


class NdjsonWriter(TextWriter):
    format = Format.NDJSON

    def __init__(self, path: Path, schema: pa.Schema, context: WriteContext) -> None:
        self._keys = [json_key(name) for name in schema.names]
        super().__init__(path, schema, context)

    def render(self, batch: pa.RecordBatch) -> pa.Array:
        return json_rows(batch, self._keys, "", "\n")
