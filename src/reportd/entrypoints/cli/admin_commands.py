"""``reportd tenants|keys|templates ...``: the operator's commands on one configuration."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from reportd.domain.errors import ReportdError
from reportd.entrypoints.cli.common import (
    ConfigOpt,
    DataDirOpt,
    JsonOpt,
    _fail,
    _print_json,
    _service,
    _settings,
    _table,
    err,
    escape,
    out,
)

tenants_app = typer.Typer(help="Manage tenants.", no_args_is_help=True, rich_markup_mode=None)
keys_app = typer.Typer(help="Manage API keys.", no_args_is_help=True, rich_markup_mode=None)
templates_app = typer.Typer(
    help="Inspect and validate templates.", no_args_is_help=True, rich_markup_mode=None
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
        tenant = service.tenants.create_tenant(tenant_id, name=name, features=feature or [])
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
        for t in service.tenants.list_tenants()
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
        asked = [s.strip() for s in scopes.split(",") if s]
        created = service.tenants.create_key(tenant, name, asked)
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
        for key in service.tenants.list_keys(tenant)
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
        service.tenants.revoke_key(key_id)
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
    from reportd.entrypoints.cli.template_check import validate_templates

    settings = _settings(config, data_dir=data_dir)
    problems = validate_templates(settings, path)
    for origin, message in problems:
        err.print(f"[red]✗[/red] {escape(origin)}: {escape(message)}")
    if problems:
        raise typer.Exit(1)
    err.print("[green]✓[/green] templates are valid")
