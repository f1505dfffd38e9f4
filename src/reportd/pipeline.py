"""One pass from a source to every requested file: the work a worker (or ``export``) does.

The query runs once; each record batch is conformed to the template's types and fed to
every writer in turn, so memory stays flat and several formats cost one read.
Between batches the run is checked for cancel and timeout; a watchdog thread can also
interrupt a query that is stuck before its first batch.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from reportd.domain.errors import ReportCanceled, ReportTimedOut
from reportd.domain.formats import Format, Packaging
from reportd.domain.models import Field, Progress, Template
from reportd.domain.naming import artifact_filename
from reportd.domain.query import build_report_query
from reportd.formats.base import FormatWriter, WriteContext
from reportd.formats.packaging import package
from reportd.formats.registry import open_writer
from reportd.formats.schema import canonical_schema, conform
from reportd.sources.base import BatchStream, Source


class RunControl:
    """Shared between the thread generating a report and the thread watching it."""

    def __init__(self, deadline: float | None = None) -> None:
        self.deadline = deadline
        self._lock = threading.Lock()
        self._stream: BatchStream | None = None
        self._stop: type[ReportCanceled] | type[ReportTimedOut] | None = None
        self.rows = 0
        self.total_rows: int | None = None
        self.hand_back = False  # stopping to give the report back to the queue, not cancel it

    @property
    def progress(self) -> Progress:
        return Progress(rows=self.rows, total_rows=self.total_rows)

    def attach(self, stream: BatchStream | None) -> None:
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
    report_name: str = ""
    on: date | None = None


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


def selected_fields(template: Template, names: Sequence[str]) -> tuple[Field, ...]:
    by_name = template.fields_by_name
    return tuple(by_name[n] for n in names)


def generate(
    spec: RunSpec,
    source: Source,
    workdir: Path,
    control: RunControl,
    *,
    batch_size: int = 65_536,
    compresslevel: int = 1,
) -> list[OutputFile]:
    fields = selected_fields(spec.template, spec.fields)
    fragment = build_report_query(
        spec.template.query,
        spec.fields,
        spec.template.fields_by_name,
        spec.filter,
        spec.order_by,
    )
    params = {**spec.options, **fragment.params, "tenant_id": spec.tenant_id}
    schema = canonical_schema(fields)
    context = WriteContext(
        template=spec.template,
        fields=fields,
        report_name=spec.report_name,
        options=spec.options,
        filter=spec.filter,
        order_by=spec.order_by,
        generated_at=datetime.now(UTC),
    )
    control.check()
    writers = [
        open_writer(fmt, workdir / f"out.{fmt.extension}", schema, context) for fmt in spec.formats
    ]
    stream = source.stream(fragment.sql, params, batch_size=batch_size)
    control.attach(stream)
    _count_in_background(stream, control)
    try:
        for batch in stream:
            control.check()
            conformed = conform(batch, schema)
            for writer in writers:
                writer.write(conformed)
            control.rows += conformed.num_rows
        control.check()
    finally:
        control.attach(None)
        stream.close()
    for writer in writers:
        writer.close()
    if control.total_rows is None or control.total_rows != control.rows:
        control.total_rows = control.rows
    return [_finish_file(spec, w, workdir, compresslevel) for w in writers]


def _count_in_background(stream: BatchStream, control: RunControl) -> None:
    def count() -> None:
        total = stream.count()
        if total is not None and control.total_rows is None:
            control.total_rows = total

    threading.Thread(target=count, name="reportd-count", daemon=True).start()


def _finish_file(
    spec: RunSpec, writer: FormatWriter, workdir: Path, compresslevel: int
) -> OutputFile:
    fmt = writer.format
    on = spec.on or datetime.now(UTC).date()
    inner_name = artifact_filename(spec.template.file_stem, on, fmt.extension)
    path = writer.path
    if spec.packaging is not Packaging.NONE:
        dest = workdir / f"out.{spec.packaging.wrap_extension(fmt.extension)}"
        path = package(
            [(writer.path, inner_name)],
            spec.packaging,
            dest,
            password=spec.zip_password,
            compresslevel=compresslevel,
        )
        writer.path.unlink(missing_ok=True)
    size, digest = file_digest(path)
    return OutputFile(
        format=fmt,
        packaging=spec.packaging,
        path=path,
        filename=artifact_filename(
            spec.template.file_stem, on, spec.packaging.wrap_extension(fmt.extension)
        ),
        mime_type=spec.packaging.wrap_mime(fmt.mime_type),
        rows=writer.rows,
        size=size,
        sha256=digest,
        zip_password=spec.zip_password if spec.packaging is Packaging.ZIP else None,
    )


def file_digest(path: Path) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()
