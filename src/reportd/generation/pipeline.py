"""One pass from a source to every requested file: the work a worker (or ``export``) does.

The query runs once; each record batch is conformed to the template's types and fed to
every writer in turn, so memory stays flat and several formats cost one read.
Between batches the run is checked for cancel and timeout; a watchdog thread can also
interrupt a query that is stuck before its first batch.

The records a run exchanges with the app layer (``RunSpec``, ``RunControl``, ``RunResult``,
``OutputFile``) are defined by its port, ``reportd.app.generator``, and re-exported here.
"""

from __future__ import annotations

import hashlib
import itertools
import threading
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa

from reportd.app.catalog import BatchStream, Source
from reportd.app.generator import OutputFile, RunControl, RunResult, RunSpec
from reportd.domain.formats import Format, Packaging
from reportd.domain.models import Field, Template
from reportd.domain.naming import artifact_filename
from reportd.domain.query import build_report_query
from reportd.generation.formats.base import WriteContext
from reportd.generation.formats.packaging import package
from reportd.generation.formats.registry import writer_class
from reportd.generation.formats.schema import canonical_schema, conform
from reportd.generation.outputs import FormatOutput, WrittenPart


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
) -> RunResult:
    """Run the template's query once and write every requested format from its batches."""
    fragment = build_report_query(
        spec.template.query,
        spec.fields,
        spec.template.fields_by_name,
        spec.filter,
        spec.order_by,
    )
    params = {**spec.options, **fragment.params, "tenant_id": spec.tenant_id}
    control.check()
    types = {f.name: f.type for f in selected_fields(spec.template, spec.fields)}
    stream = source.stream(fragment.sql, params, batch_size=batch_size, types=types)
    control.attach(stream)
    _count_in_background(stream, control)
    try:
        return _write_all(spec, iter(stream), workdir, control, compresslevel)
    finally:
        control.attach(None)
        stream.close()


def regenerate(
    spec: RunSpec, data: Path, workdir: Path, control: RunControl, *, compresslevel: int = 1
) -> RunResult:
    """New formats from a report's kept rows, without touching its source again."""
    import pyarrow.parquet as pq

    parquet = pq.ParquetFile(data)
    control.total_rows = parquet.metadata.num_rows
    batches = parquet.iter_batches(batch_size=65_536, columns=list(spec.fields))
    return _write_all(spec, batches, workdir, control, compresslevel, keep=False)


def _write_all(
    spec: RunSpec,
    batches: Iterator[pa.RecordBatch],
    workdir: Path,
    control: RunControl,
    compresslevel: int,
    *,
    keep: bool = True,
) -> RunResult:
    fields = selected_fields(spec.template, spec.fields)
    first = next(batches, None)
    control.check()
    schema = canonical_schema(fields, first)
    outputs = _open_outputs(spec, fields, schema, workdir)
    kept = _KeptRows(workdir / "rows.parquet", schema) if keep and spec.template.keep_data else None
    try:
        chain = itertools.chain([first], batches) if first is not None else iter(())
        batch: pa.RecordBatch
        step = _rows_per_step(spec.formats)
        for batch in chain:
            for rows in _steps(conform(batch, schema, first_row=control.rows), step):
                control.check()
                for output in outputs:
                    output.write(rows)
                if kept is not None:
                    kept.write(rows)
                control.rows += rows.num_rows
        control.check()
        parts = [part for output in outputs for part in output.close()]
    except BaseException:
        for output in outputs:
            output.abort()
        raise
    finally:
        if kept is not None:
            kept.close()
    if control.total_rows is None or control.total_rows != control.rows:
        control.total_rows = control.rows
    files = _finish_files(spec, parts, workdir, compresslevel)
    return RunResult(files=files, kept_data=kept.path if kept is not None else None)


def _rows_per_step(formats: Sequence[Format]) -> int | None:
    """The smallest step any requested writer asks for: the slowest writer sets the pace."""
    steps = [
        step
        for fmt in formats
        if fmt is not Format.ZIP and (step := writer_class(fmt).rows_per_step) is not None
    ]
    return min(steps, default=None)


def _steps(batch: pa.RecordBatch, step: int | None) -> Iterator[pa.RecordBatch]:
    """``batch`` in zero-copy slices of ``step`` rows (the whole batch when step is None)."""
    if step is None or batch.num_rows <= step:
        yield batch
        return
    for offset in range(0, batch.num_rows, step):
        yield batch.slice(offset, step)


def _open_outputs(
    spec: RunSpec, fields: tuple[Field, ...], schema: pa.Schema, workdir: Path
) -> list[FormatOutput]:
    context = WriteContext(
        template=spec.template,
        fields=fields,
        report_name=spec.report_name,
        options=spec.options,
        filter=spec.filter,
        order_by=spec.order_by,
        generated_at=datetime.now(UTC),
    )
    return [
        FormatOutput(
            fmt,
            workdir,
            schema,
            context,
            max_rows=spec.template.max_rows_per_file,
            max_bytes=spec.template.max_bytes_per_file,
        )
        for fmt in spec.formats
        if fmt is not Format.ZIP
    ]


class _KeptRows:
    """The run's rows as zstd Parquet, so formats can be added later without the source."""

    def __init__(self, path: Path, schema: pa.Schema) -> None:
        import pyarrow.parquet as pq

        self.path = path
        self._writer = pq.ParquetWriter(path, schema, compression="zstd")

    def write(self, batch: pa.RecordBatch) -> None:
        self._writer.write_batch(batch)

    def close(self) -> None:
        self._writer.close()


def _count_in_background(stream: BatchStream, control: RunControl) -> None:
    def count() -> None:
        total = stream.count()
        if total is not None and control.total_rows is None:
            control.total_rows = total

    threading.Thread(target=count, name="reportd-count", daemon=True).start()


def _finish_files(
    spec: RunSpec, parts: list[WrittenPart], workdir: Path, compresslevel: int
) -> list[OutputFile]:
    on = spec.on or datetime.now(UTC).date()
    stem = spec.template.file_stem
    counts = {fmt: sum(1 for p in parts if p.format is fmt) for fmt in spec.formats}
    named = [
        (part, artifact_filename(stem, on, part.format.extension, _part_number(part, counts)))
        for part in parts
    ]
    files = [
        _finish_part(spec, part, inner, _part_number(part, counts), workdir, compresslevel)
        for part, inner in named
    ]
    if Format.ZIP in spec.formats:
        files.append(_bundle(spec, named, workdir, compresslevel, on))
    return files


def _part_number(part: WrittenPart, counts: Mapping[Format, int]) -> int | None:
    """Parts are numbered only when a format was really split."""
    return part.index if counts[part.format] > 1 else None


def _finish_part(
    spec: RunSpec,
    part: WrittenPart,
    inner_name: str,
    number: int | None,
    workdir: Path,
    compresslevel: int,
) -> OutputFile:
    """The part as delivered: as written, or alone in its own zip / gzip."""
    fmt = part.format
    path = part.path
    filename = inner_name
    if spec.packaging is not Packaging.NONE:
        filename = f"{inner_name.rsplit('.', 1)[0]}.{spec.packaging.wrap_extension(fmt.extension)}"
        path = package(
            [(part.path, inner_name)],
            spec.packaging,
            workdir / f"pkg-{filename}",
            password=spec.zip_password if spec.packaging is Packaging.ZIP else None,
            encryption=spec.zip_encryption,
            compresslevel=compresslevel,
        )
    size, digest = file_digest(path)
    return OutputFile(
        format=fmt,
        packaging=spec.packaging,
        path=path,
        filename=filename,
        mime_type=spec.packaging.wrap_mime(fmt.mime_type),
        rows=part.rows,
        size=size,
        sha256=digest,
        part=number,
        zip_password=spec.zip_password if spec.packaging is Packaging.ZIP else None,
    )


def _bundle(
    spec: RunSpec,
    named: list[tuple[WrittenPart, str]],
    workdir: Path,
    compresslevel: int,
    on: date,
) -> OutputFile:
    """Every format's files in one zip (AES when a password was asked for)."""
    filename = artifact_filename(spec.template.file_stem, on, Format.ZIP.extension)
    path = package(
        [(part.path, inner) for part, inner in named],
        Packaging.ZIP,
        workdir / f"bundle-{filename}",
        password=spec.zip_password,
        encryption=spec.zip_encryption,
        compresslevel=compresslevel,
    )
    size, digest = file_digest(path)
    rows = max((p.rows for p, _ in named), default=0)
    return OutputFile(
        format=Format.ZIP,
        packaging=Packaging.NONE,
        path=path,
        filename=filename,
        mime_type=Format.ZIP.mime_type,
        rows=rows,
        size=size,
        sha256=digest,
        zip_password=spec.zip_password,
    )


def file_digest(path: Path) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()
