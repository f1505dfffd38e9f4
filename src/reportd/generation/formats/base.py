"""The one small streaming interface every format writer implements.

A writer is opened on a path with the report's canonical Arrow schema, fed record batches
in order, and closed once. It must keep memory flat in the number of rows: nothing may
accumulate whole-report state except what the format itself needs (e.g. a row count).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

import pyarrow as pa

from reportd.domain.formats import Format
from reportd.domain.models import Field, Template


@dataclass(frozen=True, slots=True)
class WriteContext:
    """What a writer may show besides the rows (PDF headers, XLSX labels)."""

    template: Template
    fields: tuple[Field, ...]
    report_name: str = ""
    options: Mapping[str, Any] = field(default_factory=dict)
    filter: str | None = None
    order_by: tuple[str, ...] = ()
    generated_at: datetime | None = None
    # Threads rendering text formats in parallel; None: the machine's cores, up to four.
    render_threads: int | None = None


class FormatWriter(ABC):
    format: ClassVar[Format]
    # Slow writers (PDF, XLSX) take their rows in steps of this many, so that progress moves
    # and a cancel or timeout is seen within a fraction of a second of work; None: whole batches.
    rows_per_step: ClassVar[int | None] = None

    def __init__(self, path: Path, schema: pa.Schema, context: WriteContext) -> None:
        self.path = path
        self.schema = schema
        self.context = context
        self.rows = 0

    @abstractmethod
    def write(self, batch: pa.RecordBatch) -> None:
        """Append one batch (already conformed to ``self.schema``)."""

    @abstractmethod
    def close(self) -> None:
        """Finish the file; after this the file at ``self.path`` is complete."""

    def __enter__(self) -> FormatWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
