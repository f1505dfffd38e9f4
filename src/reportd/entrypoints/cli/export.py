"""``reportd export``: one report written where the operator said, every part, with progress.

Where the files go is decided before any row is read, so a run that would overwrite a file
is refused at once instead of after minutes of PDF; the report itself runs in a thread while
this one draws a progress bar from the run's row count, and Ctrl-C cancels it cleanly.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from reportd.app.exports import Exports
from reportd.app.generator import OutputFile, RunControl
from reportd.domain.errors import AlreadyExists, ReportCanceled
from reportd.domain.models import ReportRequest

INTERRUPTED = 130


def is_folder(output: str | None) -> bool:
    """A folder: none given (the current one), an existing folder, or a path ending in /."""
    if output is None:
        return True
    return output.endswith(("/", "\\")) or Path(output).is_dir()


def place(files: list[OutputFile], output: str | None) -> list[Path]:
    """Where each file goes: the folder under its own name, or the file (numbered if several)."""
    if output is None or is_folder(output):
        folder = Path(output) if output is not None else Path.cwd()
        return [folder / f.filename for f in files]
    path = Path(output)
    if len(files) == 1:
        return [path]
    count = range(1, len(files) + 1)
    return [path.with_name(f"{path.stem}-{n:03d}{path.suffix}") for n in count]


def _refuse_existing(paths: list[Path], force: bool) -> None:
    if force:
        return
    for path in paths:
        if path.exists():
            raise AlreadyExists(f"{path} exists; --force overwrites it")


def run_export(
    service: Exports,
    tenant: str,
    request: ReportRequest,
    output: str | None,
    *,
    force: bool,
    console: Console,
) -> list[Path]:
    first = service.names(tenant, request)  # also validates the request
    if output is None or is_folder(output):
        folder = Path(output) if output is not None else Path.cwd()
        _refuse_existing([folder / name for name in first], force)
    else:
        folder = Path(output).parent
        _refuse_existing([Path(output)], force)
    folder.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix=".reportd-export-", dir=folder))
    control = RunControl()
    started = time.perf_counter()
    try:
        files = _run_with_progress(service, tenant, request, workdir, control, console)
        targets = place(files, output)
        _refuse_existing(targets, force)
        for produced, target in zip(files, targets, strict=True):
            shutil.move(produced.path, target)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    took = time.perf_counter() - started
    for produced, target in zip(files, targets, strict=True):
        console.print(f"wrote {target} ({produced.rows:,} rows, {produced.size:,} bytes)")
    rows = sum(f.rows for f in files)
    console.print(
        f"{len(files)} file{'s' if len(files) != 1 else ''}, {rows:,} rows in {took:.2f} s"
    )
    return targets


def _run_with_progress(
    service: Exports,
    tenant: str,
    request: ReportRequest,
    workdir: Path,
    control: RunControl,
    console: Console,
) -> list[OutputFile]:
    result: list[OutputFile] = []
    failure: list[BaseException] = []

    def work() -> None:
        try:
            result.extend(service.export(tenant, request, workdir, control))
        except BaseException as exc:
            failure.append(exc)

    thread = threading.Thread(target=work, name="reportd-export", daemon=True)
    columns = (
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("rows"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task(request.template_id, total=None)
        thread.start()
        try:
            while thread.is_alive():
                bar.update(task, completed=control.rows, total=control.total_rows)
                thread.join(0.1)
        except KeyboardInterrupt:
            control.stop(ReportCanceled)
            thread.join()
            console.print("interrupted: the export was canceled, nothing was written")
            raise typer.Exit(INTERRUPTED) from None
    if failure:
        raise failure[0]
    return result
