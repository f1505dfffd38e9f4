"""``reportd tenants grant-source|revoke-source|sources``: which data a tenant's templates reach.

A grant is the operator's decision, so it is made here, on the configuration, never through
the API a tenant's key can call. docs/templates.md explains ``--table`` and ``--tenant-column``.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from reportd.domain.errors import ReportdError
from reportd.entrypoints.cli.admin_commands import tenants_app
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
    out,
)

__all__ = ["tenants_app"]


@tenants_app.command("grant-source")
def grant_source(
    tenant_id: Annotated[str, typer.Argument(metavar="TENANT")],
    source: Annotated[str, typer.Argument(metavar="SOURCE")],
    table: Annotated[
        list[str] | None,
        typer.Option("--table", help="A table the tenant may name (repeat; default: any)."),
    ] = None,
    tenant_column: Annotated[
        str | None,
        typer.Option(help="Every table is read as its rows WHERE this column = the tenant."),
    ] = None,
    config: ConfigOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Let TENANT write templates over SOURCE (replaces an earlier grant of it)."""
    service = _service(_settings(config, data_dir=data_dir))
    try:
        service.tenants.get_tenant(tenant_id)
        grant = service.templates.grant_source(
            tenant_id, source, tables=tuple(table or ()), tenant_column=tenant_column
        )
    except ReportdError as exc:
        _fail(exc)
    finally:
        service.close()
    scope = f"rows where {grant.tenant_column} = the tenant" if grant.tenant_column else "unscoped"
    tables = ",".join(grant.tables) or "any table"
    err.print(f"source {grant.source} granted to {grant.tenant_id}: {tables}, {scope}")


@tenants_app.command("revoke-source")
def revoke_source(
    tenant_id: Annotated[str, typer.Argument(metavar="TENANT")],
    source: Annotated[str, typer.Argument(metavar="SOURCE")],
    config: ConfigOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Take SOURCE back: TENANT's templates over it no longer run."""
    service = _service(_settings(config, data_dir=data_dir))
    try:
        service.templates.revoke_source(tenant_id, source)
    except ReportdError as exc:
        _fail(exc)
    finally:
        service.close()
    err.print(f"source {source} revoked from {tenant_id}")


@tenants_app.command("sources")
def sources(
    tenant_id: Annotated[str, typer.Argument(metavar="TENANT")],
    config: ConfigOpt = None,
    data_dir: DataDirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List the sources TENANT may write templates over."""
    service = _service(_settings(config, data_dir=data_dir))
    try:
        rows: list[dict[str, Any]] = [
            {
                "source": g.source,
                "tables": list(g.tables),
                "tenant_column": g.tenant_column,
            }
            for g in service.templates.sources(tenant_id)
        ]
    finally:
        service.close()
    if as_json:
        _print_json(rows)
        return
    table = _table("source", "tables", "tenant_column")
    for row in rows:
        table.add_row(row["source"], ",".join(row["tables"]) or "*", row["tenant_column"] or "")
    out.print(table)
