"""The port to report generation: what a run asks for, what it gets back, how it is steered.

Why a port: the use cases decide *which* files a report needs and what happens to them; how
rows become CSV, XLSX or PDF is ``reportd.generation``'s business (pyarrow, the format
libraries). The runs use case receives a ``Generator``; ``reportd.generation.generator``
implements it and the composition root passes it in, so the app layer imports no format code.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Protocol

from reportd.app.catalog import Source
from reportd.domain.errors import ReportCanceled, ReportTimedOut
from reportd.domain.formats import Format, Packaging, ZipEncryption
from reportd.domain.models import Progress, Report, Template

__all__ = ["Generator", "Interruptible", "OutputFile", "RunControl", "RunResult", "RunSpec"]


class Interruptible(Protocol):
    def interrupt(self) -> None: ...


class RunControl:
    """Shared between the thread generating a report and the thread watching it."""

    def __init__(self, deadline: float | None = None) -> None:
        self.deadline = deadline
        self._lock = threading.Lock()
        self._stream: Interruptible | None = None
        self._stop: type[ReportCanceled] | type[ReportTimedOut] | None = None
        self.rows = 0
        self.total_rows: int | None = None
        self.hand_back = False  # stopping to give the report back to the queue, not cancel it

    @property
    def progress(self) -> Progress:
        return Progress(rows=self.rows, total_rows=self.total_rows)

    def attach(self, stream: Interruptible | None) -> None:
        with self._lock:
            self._stream = stream

    def stop(self, reason: type[ReportCanceled] | type[ReportTimedOut]) -> None:
        """Ask the run to stop; interrupts a running query at once."""
        with self._lock:
            if self._stop is None:
                self._stop = reason
            stream = self._stream
        if stream is not None:
            stream.interrupt()

    @property
    def stopping(self) -> type[ReportCanceled] | type[ReportTimedOut] | None:
        return self._stop

    def check(self) -> None:
        if self.deadline is not None and self._stop is None and time.time() > self.deadline:
            self.stop(ReportTimedOut)
        reason = self._stop
        if reason is not None:
            raise reason()


@dataclass(frozen=True, slots=True)
class RunSpec:
    """Everything a run needs to know about what to produce."""

    template: Template
    tenant_id: str
    fields: tuple[str, ...]
    formats: tuple[Format, ...]
    options: Mapping[str, Any] = field(default_factory=dict)
    filter: str | None = None
    order_by: tuple[str, ...] = ()
    packaging: Packaging = Packaging.NONE
    zip_password: str | None = None
    zip_encryption: ZipEncryption = ZipEncryption.AES256
    report_name: str = ""
    on: date | None = None

    @classmethod
    def of(cls, report: Report, template: Template, formats: tuple[Format, ...]) -> RunSpec:
        """What ``report`` asks of ``template``, for the given formats (a re-run makes only
        the ones it lacks)."""
        return cls(
            template=template,
            tenant_id=report.tenant_id,
            fields=report.fields,
            formats=formats,
            options=report.options,
            filter=report.filter,
            order_by=report.order_by,
            packaging=report.packaging,
            zip_password=report.zip_password,
            zip_encryption=report.zip_encryption,
            report_name=report.name,
        )


@dataclass(frozen=True, slots=True)
class OutputFile:
    format: Format
    packaging: Packaging
    path: Path
    filename: str
    mime_type: str
    rows: int
    size: int
    sha256: str
    part: int | None = None
    zip_password: str | None = None


@dataclass(frozen=True, slots=True)
class RunResult:
    files: list[OutputFile]
    kept_data: Path | None = None  # the rows as zstd Parquet, when the template keeps them


class Generator(Protocol):
    """Rows to files. Implemented by ``reportd.generation.generator.PipelineGenerator``."""

    def available_formats(self) -> tuple[Format, ...]:
        """The formats this installation can write (an optional library may be missing)."""
        ...

    def new_password(self) -> str:
        """A strong random zip password, for ``zip_password: true``."""
        ...

    def generate(
        self, spec: RunSpec, source: Source, workdir: Path, control: RunControl
    ) -> RunResult:
        """Run the template's query once and write every requested format into ``workdir``."""
        ...

    def regenerate(
        self, spec: RunSpec, data: Path, workdir: Path, control: RunControl
    ) -> RunResult:
        """New formats from a report's kept rows (``data``), without the source."""
        ...
