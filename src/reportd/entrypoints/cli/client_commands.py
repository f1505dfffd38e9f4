"""``reportd report ...``: the command line as a client of a running server, over the SDK.

The server is ``--url`` / ``REPORTD_URL`` (default http://127.0.0.1:8000), the key
``--api-key`` / ``REPORTD_API_KEY``. Results go to stdout (``--json`` for the server's own
JSON), progress bars and errors to stderr, so the output can be piped. Exit codes: 0 done,
1 an API error or a report that did not finish, 2 a usage error.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from reportd.domain.errors import ReportdError

if TYPE_CHECKING:  # imported where used: ``reportd --help`` loads neither httpx nor rich
    from rich.console import Console

    from reportd.sdk.client import Client

__all__ = ["report_app"]

DEFAULT_URL = "http://127.0.0.1:8000"

report_app = typer.Typer(
    name="report",
    help="Create, follow and download reports on a running reportd server.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

Url = Annotated[
    str, typer.Option("--url", envvar="REPORTD_URL", help="Base URL of the reportd server.")
]
ApiKey = Annotated[
    str | None,
    typer.Option("--api-key", envvar="REPORTD_API_KEY", help="API key.", show_default=False),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print the server's JSON.")]
ReportId = Annotated[str, typer.Argument(help="The report id.", show_default=False)]
Timeout = Annotated[
    float | None, typer.Option("--timeout", help="Give up waiting after this many seconds.")
]
Output = Annotated[
    Path | None,
    typer.Option("--output", "-o", help="Where to save: a file, or a directory for the file."),
]


# -- plumbing -------------------------------------------------------------------------------


@contextmanager
def _session(url: str, api_key: str | None) -> Iterator[Client]:
    """A client; API errors become a one-line message and exit code 1."""
    if not api_key:
        raise typer.BadParameter(
            "no API key: pass --api-key or set REPORTD_API_KEY", param_hint="--api-key"
        )
    from reportd.sdk.client import Client

    try:
        with Client(url, api_key) as client:
            yield client
    except ReportdError as exc:
        _fail(exc.code, exc.message, exc.details)
    except TimeoutError as exc:
        _fail("timeout", str(exc))


def _fail(code: str, message: str, details: Any = None) -> None:
    typer.echo(f"error {code}: {message}", err=True)
    if details:
        typer.echo(f"details: {json.dumps(details, ensure_ascii=False)}", err=True)
    raise typer.Exit(1)


def _stderr() -> Console:
    from rich.console import Console

    return Console(stderr=True, markup=False, highlight=False)


def _print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False))


def _split(values: list[str] | None) -> list[str] | None:
    """Repeated options, each of which may also be a comma-separated list."""
    if not values:
        return None
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def parse_options(pairs: list[str] | None) -> dict[str, Any] | None:
    """``k=v`` pairs; a value is JSON when it parses (``10``, ``true``), else a string."""
    if not pairs:
        return None
    options: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key.strip():
            raise typer.BadParameter(f"expected key=value, got {pair!r}", param_hint="--option")
        try:
            options[key.strip()] = json.loads(raw)
        except ValueError:
            options[key.strip()] = raw
    return options


def _zip_password(value: str | None) -> bool | str | None:
    """``auto`` asks the server to generate one (real passwords are 8+ characters)."""
    if value is None:
        return None
    return True if value == "auto" else value


# -- progress -------------------------------------------------------------------------------


def _wait(client: Client, report_id: str, timeout: float | None) -> dict[str, Any]:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    """Wait with a bar of rows (a spinner until the total is known)."""
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        MofNCompleteColumn(),
        TextColumn("rows"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=_stderr(), transient=False) as bar:
        task = bar.add_task(report_id[:8], total=None)

        def show(report: dict[str, Any]) -> None:
            progress = report.get("progress") or {}
            description = f"{report_id[:8]} {report['state']}"
            total = progress.get("total_rows")
            bar.update(task, description=description, completed=progress.get("rows") or 0)
            if total is not None or report["state"] == "FINISHED":
                bar.update(task, total=total if total is not None else progress.get("rows"))

        return client.wait(report_id, timeout=timeout, on_progress=show)


def _download(client: Client, report_id: str, dest: Path, artifact: dict[str, Any]) -> Path:
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
    )
    with Progress(*columns, console=_stderr()) as bar:
        task = bar.add_task(str(artifact.get("filename", report_id)), total=artifact.get("size"))
        return client.download(
            report_id,
            dest,
            format=artifact.get("format"),
            part=artifact.get("part"),
            on_progress=lambda done, total: bar.update(task, completed=done, total=total),
        )


def _download_all(client: Client, report: dict[str, Any], output: Path) -> list[Path]:
    """Every artifact; several go into ``output`` as a directory."""
    artifacts = report.get("artifacts") or []
    if len(artifacts) > 1 or str(output).endswith("/"):
        output.mkdir(parents=True, exist_ok=True)
    return [_download(client, report["id"], output, artifact) for artifact in artifacts]


def _ended_badly(report: dict[str, Any]) -> None:
    if report["state"] == "FINISHED":
        return
    error = report.get("error") or {}
    code = error.get("code") or report["state"].lower()
    _fail(code, f"report {report['id']} ended {report['state']}: {error.get('message', '')}")


# -- human output ---------------------------------------------------------------------------


def _progress_text(report: dict[str, Any]) -> str:
    progress = report.get("progress") or {}
    text = f"{progress.get('rows', 0)} rows"
    if progress.get("percent") is not None:
        text += f" ({progress['percent']:g}%)"
    return text


def _emit(report: dict[str, Any], as_json: bool) -> None:
    if as_json:
        _print_json(report)
    else:
        _show_report(report)


def _show_report(report: dict[str, Any]) -> None:
    lines = [
        ("id", report["id"]),
        ("template", report["template_id"]),
        ("name", report.get("name") or ""),
        ("state", report["state"]),
        ("progress", _progress_text(report)),
        ("created", report.get("created_at") or ""),
        ("finished", report.get("finished_at") or ""),
    ]
    error = report.get("error")
    if error:
        lines.append(("error", f"{error['code']}: {error['message']}"))
    if report.get("zip_password"):
        lines.append(("zip password", report["zip_password"]))
    for artifact in report.get("artifacts") or []:
        lines.append(
            ("file", f"{artifact['filename']}  {artifact['size']} B  {artifact['sha256']}")
        )
    for label, value in lines:
        typer.echo(f"{label + ':':<14}{value}")


def _show_list(reports: list[dict[str, Any]]) -> None:
    typer.echo(f"{'ID':<36}  {'TEMPLATE':<20}  {'STATE':<11}  {'ROWS':>10}  CREATED")
    for r in reports:
        rows = (r.get("progress") or {}).get("rows", 0)
        created = r.get("created_at") or ""
        typer.echo(
            f"{r['id']:<36}  {r['template_id']:<20}  {r['state']:<11}  {rows:>10}  {created}"
        )


# -- commands -------------------------------------------------------------------------------


@report_app.command()
def create(
    template: Annotated[str, typer.Option("--template", "-t", help="Template id.")],
    formats: Annotated[
        list[str], typer.Option("--format", "-f", help="A format (repeatable, or a,b).")
    ],
    option: Annotated[
        list[str] | None, typer.Option("--option", help="k=v, value as JSON if it parses.")
    ] = None,
    field: Annotated[list[str] | None, typer.Option("--field", help="A field to keep.")] = None,
    filter_: Annotated[str | None, typer.Option("--filter", help="Filter expression.")] = None,
    order_by: Annotated[
        list[str] | None, typer.Option("--order-by", help="A field, -field for descending.")
    ] = None,
    packaging: Annotated[str | None, typer.Option(help="none, zip or gzip.")] = None,
    zip_password: Annotated[
        str | None, typer.Option("--zip-password", help="A password, or 'auto'.")
    ] = None,
    name: Annotated[str | None, typer.Option(help="A name for the report.")] = None,
    destination: Annotated[
        list[str] | None,
        typer.Option("--destination", "-d", help="A destination id to deliver it to."),
    ] = None,
    wait: Annotated[bool, typer.Option("--wait", help="Wait until it is final.")] = False,
    output: Output = None,
    timeout: Timeout = None,
    as_json: AsJson = False,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
) -> None:
    """Ask for a report; with --wait follow it, and with --output download its files."""
    with _session(url, api_key) as client:
        report = client.create_report(
            template,
            _split(formats) or [],
            name=name,
            options=parse_options(option),
            fields=_split(field),
            filter=filter_,
            order_by=_split(order_by),
            packaging=packaging,
            zip_password=_zip_password(zip_password),
            destinations=_split(destination),
        )
        if wait or output is not None:
            report = _wait(client, report["id"], timeout)
        done = output is not None and report["state"] == "FINISHED"
        paths = _download_all(client, report, output) if done and output else []
    _emit(report, as_json)
    for path in paths:
        typer.echo(f"saved {path}", err=as_json)
    if wait or output is not None:
        _ended_badly(report)


@report_app.command()
def status(
    report_id: ReportId, as_json: AsJson = False, url: Url = DEFAULT_URL, api_key: ApiKey = None
) -> None:
    """Show a report: state, progress, error and files."""
    with _session(url, api_key) as client:
        report = client.get_report(report_id)
    _emit(report, as_json)


@report_app.command("wait")
def wait_command(
    report_id: ReportId,
    timeout: Timeout = None,
    as_json: AsJson = False,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
) -> None:
    """Follow a report with a progress bar until it is final (exit 1 unless FINISHED)."""
    with _session(url, api_key) as client:
        report = _wait(client, report_id, timeout)
    _emit(report, as_json)
    _ended_badly(report)


@report_app.command()
def download(
    report_id: ReportId,
    format_: Annotated[str | None, typer.Option("--format", "-f", help="Which format.")] = None,
    part: Annotated[int | None, typer.Option(help="Which part of a split file.")] = None,
    output: Output = None,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
) -> None:
    """Download one file of a finished report (checked against its sha256)."""
    with _session(url, api_key) as client:
        link = client.download_url(report_id, format_, part)
        artifact = {"filename": link["filename"], "size": link["file_size"]}
        artifact |= {"format": format_, "part": part}
        path = _download(client, report_id, output or Path("."), artifact)
    typer.echo(str(path))


@report_app.command("list")
def list_command(
    state: Annotated[str | None, typer.Option(help="Only reports in this state.")] = None,
    template: Annotated[str | None, typer.Option("--template", "-t", help="Template id.")] = None,
    created_by: Annotated[str | None, typer.Option(help="Only this key's reports.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="Page size.")] = 20,
    cursor: Annotated[str | None, typer.Option(help="Continue from a page.")] = None,
    all_pages: Annotated[bool, typer.Option("--all", help="Follow every page.")] = False,
    as_json: AsJson = False,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
) -> None:
    """List reports, newest first, a page at a time (or --all)."""
    with _session(url, api_key) as client:
        if all_pages:
            found = list(
                client.iter_reports(
                    state=state, template_id=template, created_by=created_by, limit=limit
                )
            )
            page: dict[str, Any] = {"results": found, "total_count": len(found)}
            page["next_cursor"] = None
        else:
            page = client.list_reports(
                state=state, template_id=template, created_by=created_by, limit=limit, cursor=cursor
            )
    if as_json:
        _print_json(page)
        return
    _show_list(page["results"])
    typer.echo(f"{len(page['results'])} of {page['total_count']}", err=True)
    if page.get("next_cursor"):
        typer.echo(f"more: --cursor {page['next_cursor']}", err=True)


@report_app.command()
def cancel(
    report_id: ReportId, as_json: AsJson = False, url: Url = DEFAULT_URL, api_key: ApiKey = None
) -> None:
    """Cancel a report (a running one stops within seconds)."""
    with _session(url, api_key) as client:
        report = client.cancel(report_id)
    if as_json:
        _print_json(report)
    elif report["state"] == "CANCELED":
        typer.echo(f"{report_id}: CANCELED")
    else:
        typer.echo(f"{report_id}: cancel requested ({report['state']})")
