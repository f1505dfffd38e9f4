"""``reportd destinations ...``: a tenant's delivery destinations on a running server (SDK).

The same server, key and exit codes as ``reportd report``. Settings and secrets are
``--set key=value`` (a value is JSON when it parses, ``key=@FILE`` reads a file, e.g. a private
key, so it stays out of the shell history); secrets are never printed back, except the
webhook secret reportd generates, shown once (docs/delivery.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from reportd.entrypoints.cli.client_commands import (
    DEFAULT_URL,
    ApiKey,
    AsJson,
    Url,
    _print_json,
    _session,
    parse_options,
)

__all__ = ["destinations_app"]

destinations_app = typer.Typer(
    name="destinations",
    help="Delivery destinations of your tenant on a running reportd server.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

DestinationId = Annotated[str, typer.Argument(help="The destination id.", show_default=False)]
Settings = Annotated[
    list[str] | None,
    typer.Option("--set", "-s", help="key=value (repeatable); key=@FILE reads a file."),
]
_SHOWN_FIRST = ("id", "type", "name", "secrets_set", "created_at", "updated_at")


def fields_of(pairs: list[str] | None) -> dict[str, Any]:
    fields = parse_options(pairs) or {}
    for key, value in fields.items():
        if isinstance(value, str) and value.startswith("@"):
            fields[key] = Path(value[1:]).expanduser().read_text()
    return fields


def _show(destination: dict[str, Any]) -> None:
    for key in _SHOWN_FIRST:
        value = destination.get(key)
        typer.echo(f"{key + ':':<13}{', '.join(value) if isinstance(value, list) else value}")
    skipped = {*_SHOWN_FIRST, "generated_secrets"}
    for key, value in destination.items():
        if key not in skipped:
            typer.echo(f"{key + ':':<13}{value}")
    for key, value in (destination.get("generated_secrets") or {}).items():
        typer.echo(f"{key + ':':<13}{value}  (shown once: keep it now)")


@destinations_app.command("list")
def list_(url: Url = DEFAULT_URL, api_key: ApiKey = None, as_json: AsJson = False) -> None:
    """Every destination of the key's tenant."""
    with _session(url, api_key) as client:
        found = client.list_destinations()
    if as_json:
        _print_json(found)
        return
    typer.echo(f"{'ID':<36}  {'TYPE':<7}  NAME")
    for item in found["results"]:
        typer.echo(f"{item['id']:<36}  {item['type']:<7}  {item['name']}")


@destinations_app.command()
def create(
    type_: Annotated[
        str, typer.Argument(metavar="TYPE", help="email, s3, sftp or webhook.", show_default=False)
    ],
    settings: Settings = None,
    name: Annotated[str | None, typer.Option(help="A name for it.")] = None,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
    as_json: AsJson = False,
) -> None:
    """Make a destination of TYPE from --set pairs."""
    with _session(url, api_key) as client:
        made = client.create_destination(type_, name, **fields_of(settings))
    if as_json:
        _print_json(made)
    else:
        _show(made)


@destinations_app.command()
def show(
    destination_id: DestinationId,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
    as_json: AsJson = False,
) -> None:
    """One destination (its secrets' names only)."""
    with _session(url, api_key) as client:
        found = client.get_destination(destination_id)
    if as_json:
        _print_json(found)
    else:
        _show(found)


@destinations_app.command()
def update(
    destination_id: DestinationId,
    settings: Settings = None,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
    as_json: AsJson = False,
) -> None:
    """Change settings or secrets (key=null removes one)."""
    with _session(url, api_key) as client:
        changed = client.update_destination(destination_id, **fields_of(settings))
    if as_json:
        _print_json(changed)
    else:
        _show(changed)


@destinations_app.command()
def delete(destination_id: DestinationId, url: Url = DEFAULT_URL, api_key: ApiKey = None) -> None:
    """Delete a destination; deliveries still pending to it fail."""
    with _session(url, api_key) as client:
        client.delete_destination(destination_id)
    typer.echo(f"deleted {destination_id}")
