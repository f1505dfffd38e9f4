"""The ``reportd`` command. Each command parses its flags, calls the service, prints the result."""

from __future__ import annotations

import json
import logging
import sys
import time
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from reportd.app.service import ReportService
from reportd.config import Settings, load_settings
from reportd.domain.errors import ReportdError
from reportd.domain.models import ReportRequest
from reportd.entrypoints.cli.config_commands import config_app

app = typer.Typer(
    name="reportd",
    help="Self-hosted, multi-tenant, asynchronous report service.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
tenants_app = typer.Typer(help="Manage tenants.", no_args_is_help=True)
keys_app = typer.Typer(help="Manage API keys.", no_args_is_help=True)
templates_app = typer.Typer(help="Inspect and validate templates.", no_args_is_help=True)


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

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

ConfigOpt = Annotated[
    Path | None,
    typer.Option("--config", "-c", envvar="REPORTD_CONFIG", help="reportd.toml to use."),
]
DataDirOpt = Annotated[
    Path | None, typer.Option("--data-dir", envvar="REPORTD_DATA_DIR", help="Embedded data dir.")
]


def _settings(config: Path | None, **overrides: Any) -> Settings:
    try:
        return load_settings(config, **overrides)
    except ReportdError as exc:
        _fail(exc)
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        err.print(f"[red]error[/red] [bold]configuration_error[/bold]: {escape(str(exc))}")
        raise typer.Exit(2) from exc


def _table(*columns: str) -> Table:
    """A table that wraps long values instead of cutting them: ids and keys are copied from it."""
    table = Table()
    for column in columns:
        table.add_column(column, overflow="fold")
    return table


def _print_json(rows: list[dict[str, Any]]) -> None:
    sys.stdout.write(json.dumps(rows, indent=2, default=str) + "\n")


JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def _fail(exc: ReportdError) -> NoReturn:
    err.print(f"[red]error[/red] [bold]{exc.code}[/bold]: {escape(exc.message)}")
    raise typer.Exit(1) from exc


def _service(
    settings: Settings, *, metadata: bool = True, wait: bool = False, prepared: bool = True
) -> ReportService:
    """The wired service; ``metadata=False`` when the command never touches the database.

    ``wait``: a long-running process (serve, worker) waits for its database instead of
    failing, saying so once per attempt; a one-shot command fails at once.
    """
    from reportd.bootstrap import build_service, prepare

    try:
        service = build_service(settings)
        if wait:
            _wait_for_database(service, settings.database_url)
        if prepared:
            prepare(settings, service, metadata=metadata)
    except ReportdError as exc:
        _fail(exc)
    return service


def _wait_for_database(service: ReportService, url: str) -> None:
    """Retry with backoff until the metadata database answers: one line per try, no traceback."""
    from sqlalchemy.engine import make_url

    shown = make_url(url).render_as_string(hide_password=True)
    delay = 1.0
    while True:
        try:
            service.store.check()
            return
        except ReportdError as exc:
            root: BaseException = exc
            while root.__cause__ is not None:  # the driver's own words: host, port, refusal
                root = root.__cause__
            cause = (str(root).strip().splitlines() or [exc.message])[0]
            err.print(
                f"[yellow]cannot connect to the database[/yellow] {escape(shown)}: "
                f"{escape(cause)}; retrying in {delay:.0f}s"
            )
        time.sleep(delay)
        delay = min(delay * 2, 30.0)


def _configure_logging() -> None:
    from reportd.obs.logs import configure_logging

    configure_logging()


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
        application = create_app(settings, service=service, workers=slots, reloader=recipe.load)
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
    wide = out if out.is_terminal else Console(soft_wrap=True, width=160)
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
    from reportd.entrypoints.cli.export import run_export

    settings = _settings(config, data_dir=data_dir)
    service = _service(settings, metadata=False)
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
        run_export(service, tenant, request, output, force=force, console=err)
    except ReportdError as exc:
        _fail(exc)
    finally:
        service.close()


@app.command()
def migrate(config: ConfigOpt = None, data_dir: DataDirOpt = None) -> None:
    """Create or upgrade the metadata schema."""
    from reportd.bootstrap import build_service

    settings = _settings(config, data_dir=data_dir)
    service = build_service(settings)
    service.store.migrate()
    service.close()
    err.print("schema is up to date")


@app.command()
def gc(config: ConfigOpt = None, data_dir: DataDirOpt = None) -> None:
    """One maintenance sweep by hand: expired reports' files, dead workers' leases."""
    settings = _settings(config, data_dir=data_dir)
    service = _service(settings)
    try:
        expired = service.expire_due()
        reaped = service.reap()
    finally:
        service.close()
    err.print(
        f"expired {len(expired)}; requeued {len(reaped.requeued)}, "
        f"failed {len(reaped.failed)}, canceled {len(reaped.canceled)}"
    )


@tenants_app.command("create")
def tenants_create(
    tenant_id: Annotated[str, typer.Argument(metavar="ID")],
    feature: Annotated[
        list[str] | None,
        typer.Option("--feature", help="Feature flag", envvar="REPORTD_TENANT_FEATURE"),
    ] = None,
    name: Annotated[str | None, typer.Option(envvar="REPORTD_TENANT_NAME")] = None,
    config: ConfigOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Create a tenant."""
    service = _service(_settings(config, data_dir=data_dir))
    try:
        tenant = service.create_tenant(tenant_id, name=name, features=feature or [])
    except ReportdError as exc:
        _fail(exc)
    finally:
        service.close()
    err.print(f"tenant {tenant.id} created with features {sorted(tenant.features)}")


@tenants_app.command("list")
def tenants_list(
    config: ConfigOpt = None, data_dir: DataDirOpt = None, as_json: JsonOpt = False
) -> None:
    """List tenants."""
    service = _service(_settings(config, data_dir=data_dir))
    rows: list[dict[str, Any]] = [
        {"id": t.id, "name": t.name, "features": sorted(t.features)}
        for t in service.store.tenants.list_tenants()
    ]
    service.close()
    if as_json:
        _print_json(rows)
        return
    table = _table("id", "name", "features")
    for row in rows:
        table.add_row(row["id"], row["name"], ",".join(row["features"]))
    out.print(table)


@keys_app.command("create")
def keys_create(
    tenant: Annotated[str, typer.Option(help="Tenant id.", envvar="REPORTD_TENANT")],
    name: Annotated[str, typer.Option(help="Shown as created_by.", envvar="REPORTD_KEY_NAME")],
    scopes: Annotated[
        str, typer.Option(help="Comma-separated scopes.", envvar="REPORTD_KEY_SCOPES")
    ] = ("reports:read,reports:write,templates:read"),
    config: ConfigOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Create an API key; the key alone is printed on stdout, once."""
    service = _service(_settings(config, data_dir=data_dir))
    try:
        created = service.create_key(tenant, name, [s.strip() for s in scopes.split(",") if s])
    except ReportdError as exc:
        _fail(exc)
    finally:
        service.close()
    sys.stdout.write(created.secret + "\n")
    err.print(f"key id {created.key.id} for tenant {tenant} ({scopes})")


@keys_app.command("list")
def keys_list(
    tenant: Annotated[str, typer.Option(help="Tenant id.", envvar="REPORTD_TENANT")],
    config: ConfigOpt = None,
    data_dir: DataDirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List a tenant's keys (never their secrets)."""
    service = _service(_settings(config, data_dir=data_dir))
    rows: list[dict[str, Any]] = [
        {
            "id": key.id,
            "name": key.name,
            "scopes": sorted(key.scopes),
            "created_at": key.created_at,
            "revoked_at": key.revoked_at,
        }
        for key in service.store.tenants.list_keys(tenant)
    ]
    service.close()
    if as_json:
        _print_json(rows)
        return
    table = _table("id", "name", "scopes", "created", "revoked")
    for row in rows:
        table.add_row(
            row["id"],
            row["name"],
            ",".join(row["scopes"]),
            str(row["created_at"]),
            str(row["revoked_at"] or ""),
        )
    out.print(table)


@keys_app.command("revoke")
def keys_revoke(
    key_id: Annotated[str, typer.Argument(metavar="KEY_ID")],
    config: ConfigOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Revoke a key by its id; requests with it fail from now on."""
    service = _service(_settings(config, data_dir=data_dir))
    try:
        service.revoke_key(key_id)
    except ReportdError as exc:
        _fail(exc)
    finally:
        service.close()
    err.print(f"key {key_id} revoked")


@templates_app.command("list")
def templates_list(
    config: ConfigOpt = None, data_dir: DataDirOpt = None, as_json: JsonOpt = False
) -> None:
    """List the templates the configuration loads."""
    from reportd.adapters.template_files import load_templates

    settings = _settings(config, data_dir=data_dir)
    try:
        found = load_templates(settings.template_dirs())
    except ReportdError as exc:
        _fail(exc)
    rows: list[dict[str, Any]] = [
        {
            "id": template.id,
            "name": template.name,
            "source": template.source,
            "formats": [f.value for f in template.formats],
            "fields": [f.name for f in template.fields],
        }
        for template in sorted(found.values(), key=lambda t: t.id)
    ]
    if as_json:
        _print_json(rows)
        return
    table = _table("id", "name", "source", "formats", "fields")
    for row in rows:
        table.add_row(
            row["id"], row["name"], row["source"], ",".join(row["formats"]), str(len(row["fields"]))
        )
    out.print(table)


@templates_app.command("show")
def templates_show(
    template_id: Annotated[str, typer.Argument(metavar="ID")],
    config: ConfigOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Show one template as JSON."""
    from reportd.adapters.template_files import load_templates
    from reportd.entrypoints.api.schemas import TemplatePublic

    settings = _settings(config, data_dir=data_dir)
    try:
        found = load_templates(settings.template_dirs())
    except ReportdError as exc:
        _fail(exc)
    if template_id not in found:
        err.print(f"[red]error[/red] [bold]template_not_found[/bold]: no template {template_id!r}")
        raise typer.Exit(1)
    sys.stdout.write(TemplatePublic.of(found[template_id]).model_dump_json(indent=2) + "\n")


@templates_app.command("validate")
def templates_validate(
    path: Annotated[Path | None, typer.Argument(help="A template file or directory.")] = None,
    config: ConfigOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Check templates: the file parses, the query runs on its source, the fields exist."""
    from reportd.adapters.template_check import validate_templates

    settings = _settings(config, data_dir=data_dir)
    problems = validate_templates(settings, path)
    for origin, message in problems:
        err.print(f"[red]✗[/red] {escape(origin)}: {escape(message)}")
    if problems:
        raise typer.Exit(1)
    err.print("[green]✓[/green] templates are valid")


def main() -> None:
    from reportd.entrypoints.cli.client_commands import report_app
    from reportd.entrypoints.cli.credential_commands import clients_app, users_app

    app.add_typer(report_app, name="report")
    app.add_typer(clients_app, name="clients")
    app.add_typer(users_app, name="users")
    logging.basicConfig(level=logging.WARNING)
    app()


if __name__ == "__main__":
    main()
