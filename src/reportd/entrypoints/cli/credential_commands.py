"""``reportd clients ...`` (OAuth 2.0 clients) and ``reportd users ...`` (password sign-in).

Secrets are printed once, on stdout, and never again; a password is read from standard input
(``--password-stdin``) so it stays out of the shell history and the process list.
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Annotated, Any

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
    err,
    out,
)

if TYPE_CHECKING:
    from reportd.app.oauth import OAuthService
    from reportd.app.users import UserService

clients_app = typer.Typer(
    help="Manage OAuth 2.0 clients.", no_args_is_help=True, rich_markup_mode=None
)
users_app = typer.Typer(
    help="Manage users who sign in with a password.", no_args_is_help=True, rich_markup_mode=None
)

TenantOpt = Annotated[str, typer.Option(help="Tenant id.", envvar="REPORTD_TENANT")]
ScopesOpt = Annotated[
    str, typer.Option(help="Comma-separated scopes.", envvar="REPORTD_CLIENT_SCOPES")
]


def _split(scopes: str) -> list[str]:
    return [s.strip() for s in scopes.replace(" ", ",").split(",") if s.strip()]


def _oauth(service: object) -> OAuthService:
    oauth = getattr(service, "oauth", None)
    if oauth is None:  # pragma: no cover - bootstrap always builds it
        raise typer.Exit(2)
    return oauth  # type: ignore[no-any-return]


def _users(service: object) -> UserService:
    users = getattr(service, "users", None)
    if users is None:  # pragma: no cover - bootstrap always builds it
        raise typer.Exit(2)
    return users  # type: ignore[no-any-return]


@clients_app.command("create")
def clients_create(
    tenant: TenantOpt,
    name: Annotated[str, typer.Option(help="Shown as created_by.", envvar="REPORTD_CLIENT_NAME")],
    scopes: ScopesOpt = "reports:read",
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON object.")] = False,
    config: ConfigOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Create an OAuth client; its id and secret are printed on stdout, once."""
    service = _service(_settings(config, data_dir=data_dir))
    try:
        created = _oauth(service).create_client(tenant, name, _split(scopes))
    except ReportdError as exc:
        _fail(exc)
    finally:
        service.close()
    if as_json:
        body = {"client_id": created.client.id, "client_secret": created.secret}
        sys.stdout.write(json.dumps(body) + "\n")
    else:
        sys.stdout.write(f"{created.client.id} {created.secret}\n")
    err.print(f"OAuth client {created.client.id} for tenant {tenant} ({scopes})")


@clients_app.command("list")
def clients_list(
    tenant: TenantOpt,
    config: ConfigOpt = None,
    data_dir: DataDirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List a tenant's OAuth clients (never their secrets)."""
    service = _service(_settings(config, data_dir=data_dir))
    rows: list[dict[str, Any]] = [
        {
            "client_id": c.id,
            "name": c.name,
            "scopes": sorted(c.scopes),
            "created_at": c.created_at,
            "revoked_at": c.revoked_at,
        }
        for c in _oauth(service).clients.list_clients(tenant)
    ]
    service.close()
    _show(rows, as_json, ("client_id", "name", "scopes", "created_at", "revoked_at"))


@clients_app.command("revoke")
def clients_revoke(
    client_id: Annotated[str, typer.Argument(metavar="CLIENT_ID")],
    config: ConfigOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Revoke a client: new tokens are refused, and every token it was given stops working."""
    service = _service(_settings(config, data_dir=data_dir))
    try:
        _oauth(service).revoke_client(client_id)
    except ReportdError as exc:
        _fail(exc)
    finally:
        service.close()
    err.print(f"OAuth client {client_id} revoked")


@users_app.command("create")
def users_create(
    tenant: TenantOpt,
    username: Annotated[str, typer.Option(help="Sign-in name.", envvar="REPORTD_USERNAME")],
    scopes: ScopesOpt = "reports:read,reports:write",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    config: ConfigOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Create a user; the password (argon2-hashed) is read from standard input."""
    if not password_stdin:
        err.print("[red]error[/red]: pass --password-stdin and the password on standard input")
        raise typer.Exit(2)
    password = sys.stdin.readline().rstrip("\r\n")
    service = _service(_settings(config, data_dir=data_dir))
    try:
        user = _users(service).create(tenant, username, _split(scopes), password)
    except ReportdError as exc:
        _fail(exc)
    finally:
        service.close()
    sys.stdout.write(user.id + "\n")
    err.print(f"user {user.username} of tenant {tenant} ({scopes})")


@users_app.command("list")
def users_list(
    tenant: TenantOpt,
    config: ConfigOpt = None,
    data_dir: DataDirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List a tenant's users (never their password hashes)."""
    service = _service(_settings(config, data_dir=data_dir))
    rows: list[dict[str, Any]] = [
        {
            "id": u.id,
            "username": u.username,
            "scopes": sorted(u.scopes),
            "created_at": u.created_at,
            "disabled_at": u.disabled_at,
        }
        for u in _users(service).users.list_users(tenant)
    ]
    service.close()
    _show(rows, as_json, ("id", "username", "scopes", "created_at", "disabled_at"))


def _show(rows: list[dict[str, Any]], as_json: bool, columns: tuple[str, ...]) -> None:
    if as_json:
        _print_json(rows)
        return
    from rich.table import Table

    table = Table(*columns)
    for row in rows:
        table.add_row(*(",".join(v) if isinstance(v, list) else str(v or "") for v in
                        (row[c] for c in columns)))  # fmt: skip
    out.print(table)


@users_app.command("disable")
def users_disable(
    username: Annotated[str, typer.Argument(metavar="USERNAME")],
    config: ConfigOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Disable a user: sign-in is refused and its tokens stop working at once."""
    service = _service(_settings(config, data_dir=data_dir))
    try:
        _users(service).disable(username)
    except ReportdError as exc:
        _fail(exc)
    finally:
        service.close()
    err.print(f"user {username} disabled")
