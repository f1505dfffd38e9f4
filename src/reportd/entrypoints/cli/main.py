"""The ``reportd`` command. Each command parses its flags, calls a use case, prints the result."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from reportd.domain.errors import ReportdError
from reportd.entrypoints.cli.admin_commands import keys_app, templates_app
from reportd.entrypoints.cli.client_commands import report_app
from reportd.entrypoints.cli.common import (
    ConfigOpt,
    DataDirOpt,
    _configure_logging,
    _fail,
    _service,
    _settings,
    err,
    escape,
    out,
)
from reportd.entrypoints.cli.config_commands import config_app
from reportd.entrypoints.cli.credential_commands import clients_app, users_app
from reportd.entrypoints.cli.destination_commands import destinations_app
from reportd.entrypoints.cli.grant_commands import tenants_app
from reportd.entrypoints.cli.webhook_commands import webhooks_app

if TYPE_CHECKING:
    from reportd.config import Settings

app = typer.Typer(
    name="reportd",
    help="Self-hosted, multi-tenant, asynchronous report service.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain help: formatting it with rich doubles the start-up
)


def _version(value: bool) -> None:
    if value:
        from reportd import __version__

        typer.echo(f"reportd {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Self-hosted, multi-tenant, asynchronous report service."""


app.add_typer(tenants_app, name="tenants")
app.add_typer(keys_app, name="keys")
app.add_typer(templates_app, name="templates")
app.add_typer(config_app, name="config")
app.add_typer(report_app, name="report")
app.add_typer(clients_app, name="clients")
app.add_typer(users_app, name="users")
app.add_typer(webhooks_app, name="webhooks")
app.add_typer(destinations_app, name="destinations")


@app.command()
def serve(
    config: ConfigOpt = None,
    host: Annotated[str | None, typer.Option(envvar="REPORTD_HOST")] = None,
    port: Annotated[int | None, typer.Option(envvar="REPORTD_PORT")] = None,
    data_dir: DataDirOpt = None,
    workers: Annotated[
        int | None, typer.Option("--workers", envvar="REPORTD_WORKERS", help="Worker slots.")
    ] = None,
    no_worker: Annotated[
        bool, typer.Option("--no-worker", help="API only.", envvar="REPORTD_NO_WORKER")
    ] = False,
    http_processes: Annotated[
        int | None,
        typer.Option(
            "--http-processes",
            envvar="REPORTD_SERVER__PROCESSES",
            help="HTTP processes sharing the port (default [server] processes, 1).",
            min=1,
        ),
    ] = None,
) -> None:
    """Serve the API and console, with embedded workers unless --no-worker."""
    from reportd.entrypoints.processes import SettingsRecipe

    recipe = SettingsRecipe(config, {"data_dir": data_dir}, {"host": host, "port": port})
    settings = _settings(config, data_dir=data_dir)
    settings = settings.model_copy(update={"server": recipe.load().server})
    server = settings.server
    try:
        settings.check_safe_to_serve()
    except ReportdError as exc:
        _fail(exc)
    _configure_logging()
    processes = http_processes or server.processes
    if processes > 1:  # every core: a supervisor, HTTP and worker processes of their own
        from reportd.entrypoints.processes import serve_processes

        _service(settings, wait=True).close()  # migrate and lay out the demo once, here
        count = server.worker_processes if server.worker_processes is not None else 1
        _banner(settings, config)
        serve_processes(
            recipe,
            settings,
            http_processes=processes,
            worker_processes=0 if no_worker else count,
            worker_slots=workers,
        )
        return
    import uvicorn

    from reportd.entrypoints.api.app import create_app

    slots = 0 if no_worker else workers
    service = _service(settings, wait=True, prepared=False)  # the app prepares it on start
    try:
        application = create_app(settings, core=service, workers=slots, reloader=recipe.load)
    except ReportdError as exc:
        _fail(exc)
    _banner(settings, config)
    uvicorn.run(
        application,
        host=server.host,
        port=server.port,
        log_level="warning",
        timeout_graceful_shutdown=int(server.graceful_timeout),
    )


def _banner(settings: Settings, config: Path | None) -> None:
    """Where to go next, on stderr: the URL, the console, and how to get a key."""
    server = settings.server
    url = server.public_url or f"http://{server.host}:{server.port}"
    flag = f" --config {config}" if config else ""
    typer.echo(
        f"reportd serving on {url}\n"
        f"  console:  {url}/console\n"
        f"  API docs: {url}/docs\n"
        f"  a key:    reportd keys create{flag} --tenant demo --name me "
        "--scopes reports:read,reports:write,templates:read",
        err=True,
    )
    if settings.grpc.listen:
        typer.echo(f"  gRPC:     {settings.grpc.listen} (SpaceONE report.v1)", err=True)


@app.command()
def worker(
    config: ConfigOpt = None,
    data_dir: DataDirOpt = None,
    concurrency: Annotated[
        int | None, typer.Option(envvar="REPORTD_WORKER__CONCURRENCY", help="Worker slots.")
    ] = None,
) -> None:
    """Run worker slots only (scale-out): claim and generate reports until SIGTERM.

    SIGHUP re-reads templates and sources. ``REPORTD_WORKER_INDEX`` (systemd's
    reportd-worker@N) offsets ``[worker] metrics_port``.
    """
    from reportd.entrypoints.processes import SettingsRecipe, worker_index, worker_process

    settings = _settings(config, data_dir=data_dir)
    _configure_logging()
    service = _service(settings, wait=True)
    recipe = SettingsRecipe(config, {"data_dir": data_dir})
    worker_process(recipe, concurrency, worker_index(), service=service)


@app.command()
def demo(
    config: ConfigOpt = None,
    data_dir: DataDirOpt = None,
    output: Annotated[Path, typer.Option("--output", "-o", envvar="REPORTD_DEMO_OUTPUT")] = Path(
        "reportd-out"
    ),
    port: Annotated[int, typer.Option(envvar="REPORTD_DEMO_PORT")] = 0,
) -> None:
    """The main job end to end: serve, make a report per format, download them, show a table."""
    from reportd.entrypoints.demo.runner import run_demo

    settings = _settings(config, data_dir=data_dir)
    from rich.console import Console

    wide = out.get() if out.is_terminal else Console(soft_wrap=True, width=160)
    try:
        run_demo(settings, output, port=port, console=wide)
    except ReportdError as exc:
        _fail(exc)


def _options(pairs: list[str]) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for pair in pairs:
        name, sep, raw = pair.partition("=")
        if not sep or not name:
            err.print(
                "[red]error[/red] [bold]validation_error[/bold]: "
                f"--option takes name=value, not {escape(repr(pair))}"
            )
            raise typer.Exit(2)
        try:
            options[name] = json.loads(raw)
        except json.JSONDecodeError:
            options[name] = raw
    return options


@app.command()
def export(
    template: Annotated[
        str, typer.Option("--template", "-t", help="Template id.", envvar="REPORTD_EXPORT_TEMPLATE")
    ],
    format: Annotated[
        str, typer.Option("--format", "-f", help="Output format.", envvar="REPORTD_EXPORT_FORMAT")
    ],
    config: ConfigOpt = None,
    data_dir: DataDirOpt = None,
    tenant: Annotated[
        str, typer.Option(help="Tenant whose rows to export.", envvar="REPORTD_TENANT")
    ] = "demo",
    option: Annotated[
        list[str] | None, typer.Option("--option", help="k=v", envvar="REPORTD_EXPORT_OPTION")
    ] = None,
    field: Annotated[
        list[str] | None,
        typer.Option("--field", help="Field to include", envvar="REPORTD_EXPORT_FIELD"),
    ] = None,
    filter: Annotated[
        str | None, typer.Option(help="Filter expression.", envvar="REPORTD_EXPORT_FILTER")
    ] = None,
    order_by: Annotated[
        list[str] | None, typer.Option("--order-by", envvar="REPORTD_EXPORT_ORDER_BY")
    ] = None,
    packaging: Annotated[
        str, typer.Option(help="none, zip or gzip", envvar="REPORTD_EXPORT_PACKAGING")
    ] = "none",
    zip_password: Annotated[str | None, typer.Option(envvar="REPORTD_EXPORT_ZIP_PASSWORD")] = None,
    output: Annotated[
        str | None,  # a str, not a Path: a trailing / is what says "a folder"
        typer.Option(
            "--output",
            "-o",
            help="A file, or a folder (an existing one, or ending in /) for the server's names. "
            "Parts of a split file are numbered after it. Default: the current folder.",
            envvar="REPORTD_EXPORT_OUTPUT",
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite files that exist.", envvar="REPORTD_FORCE")
    ] = False,
) -> None:
    """One report, in process, no server: the same pipeline the workers run.

    Exit codes: 0 written; 1 the report failed or would overwrite a file (its code is
    printed); 2 bad flags or configuration; 130 interrupted (nothing is left behind).
    """
    from reportd.bootstrap import build_exports
    from reportd.domain.models import ReportRequest
    from reportd.entrypoints.cli.export import run_export
    from reportd.entrypoints.startup import ensure_demo_data

    settings = _settings(config, data_dir=data_dir)
    try:
        exports = build_exports(settings)
        if settings.demo_enabled:
            ensure_demo_data(settings)
    except ReportdError as exc:
        _fail(exc)
    request = ReportRequest(
        template_id=template,
        formats=(format,),
        options=_options(option or []),
        fields=tuple(field) if field else None,
        filter=filter,
        order_by=tuple(order_by or ()),
        packaging=packaging,
        zip_password=zip_password,
    )
    try:
        run_export(exports.exports, tenant, request, output, force=force, console=err.get())
    except ReportdError as exc:
        _fail(exc)
    finally:
        exports.close()


@app.command()
def migrate(config: ConfigOpt = None, data_dir: DataDirOpt = None) -> None:
    """Create or upgrade the metadata schema."""
    from reportd.bootstrap import build_app

    settings = _settings(config, data_dir=data_dir)
    service = build_app(settings)
    service.migrate()
    service.close()
    err.print("schema is up to date")


@app.command()
def gc(config: ConfigOpt = None, data_dir: DataDirOpt = None) -> None:
    """One maintenance sweep by hand: expired reports' files, dead workers' leases."""
    settings = _settings(config, data_dir=data_dir)
    service = _service(settings)
    try:
        expired = service.runs.expire_due()
        reaped = service.runs.reap()
    finally:
        service.close()
    err.print(
        f"expired {len(expired)}; requeued {len(reaped.requeued)}, "
        f"failed {len(reaped.failed)}, canceled {len(reaped.canceled)}"
    )


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    app()


if __name__ == "__main__":
    main()
