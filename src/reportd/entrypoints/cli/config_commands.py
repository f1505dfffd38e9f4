"""``reportd config check``: load a configuration the way ``serve`` would and print what it means.

An operator's first question about a deployment is "what did it actually read?": the file,
then ``REPORTD_*`` variables on top, then the embedded defaults for whatever is left out.
The command prints that effective result as JSON (derived values included: the database URL,
every storage, every source, the template folders) with every secret masked, so its output
can be pasted into a ticket. It exits 1 when the configuration would not start.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import urlsplit, urlunsplit

import typer

from reportd.entrypoints.cli.common import err, escape

if TYPE_CHECKING:
    from reportd.config import Settings
from reportd.domain.errors import ReportdError

config_app = typer.Typer(
    help="Inspect the configuration.", no_args_is_help=True, rich_markup_mode=None
)

MASK = "********"
# Setting names whose values are secrets wherever they appear (storage, smtp, sources, ...).
_SECRET_NAME = re.compile(r"(secret|password|passwd|token|api_key|access_key|private_key)", re.I)


def mask_url(url: str) -> str:
    """``scheme://user:PASSWORD@host/db`` with the password replaced; other URLs unchanged."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    if ":" in host:  # an IPv6 literal
        host = f"[{host}]"
    netloc = f"{user}:{MASK}@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def masked(value: Any, name: str = "") -> Any:
    """``value`` with secrets masked: by setting name, and passwords inside URLs."""
    if isinstance(value, dict):
        return {key: masked(item, str(key)) for key, item in value.items()}
    if isinstance(value, list):
        return [masked(item, name) for item in value]
    if value is None or value == "":
        return value
    if _SECRET_NAME.search(name):
        return MASK
    if isinstance(value, str) and "://" in value:
        return mask_url(value)
    return value


def effective(settings: Settings) -> dict[str, Any]:
    """Everything a process started with ``settings`` would use, derived values filled in."""
    data = settings.model_dump(mode="json")
    data["storage"] = settings.storage_settings()
    data["sources"] = [s.model_dump(mode="json") for s in settings.all_sources()]
    data["database"]["url"] = settings.database_url
    data["templates_dirs"] = [str(p) for p in settings.template_dirs()]
    data["demo"] = settings.demo_enabled
    if not settings.server.secret:
        data["server"]["secret"] = f"(generated, kept in {settings.data_dir / 'secret'})"
    shown: dict[str, Any] = masked(data)
    return shown


def problems(settings: Settings) -> list[str]:
    """What would stop ``reportd serve`` with these settings, beyond parsing."""
    from reportd.adapters.template_files import load_templates

    found: list[str] = []
    try:
        settings.check_safe_to_serve()
    except ReportdError as exc:
        found.append(exc.message)
    try:
        templates = load_templates(settings.template_dirs())
    except ReportdError as exc:
        found.append(f"templates: {exc.message}")
    else:
        names = {s.name for s in settings.all_sources()}
        for template in templates.values():
            if template.source not in names:
                found.append(f"template {template.id!r} names source {template.source!r}, "
                             "which is not configured")  # fmt: skip
    for name, storage in settings.storage_settings().items():
        if storage.get("type", "local") not in ("local", "s3", "memory"):
            found.append(f"[storage.{name}] type must be local or s3")
    return found


@config_app.command("check")
def check(
    config: Annotated[
        Path | None,
        typer.Option("--config", "-c", envvar="REPORTD_CONFIG", help="reportd.toml to check."),
    ] = None,
) -> None:
    """Load a configuration, print the effective settings (secrets masked), report problems."""
    try:
        from reportd.config import load_settings

        settings = load_settings(config)
    except ReportdError as exc:
        err.print(f"[red]error[/red] [bold]{exc.code}[/bold]: {escape(exc.message)}")
        raise typer.Exit(1) from exc
    except ValueError as exc:  # pydantic's ValidationError
        err.print(f"[red]configuration error:[/red] {escape(str(exc))}")
        raise typer.Exit(1) from exc
    sys.stdout.write(json.dumps(effective(settings), indent=2, sort_keys=True) + "\n")
    found = problems(settings)
    for message in found:
        err.print(f"[red]✗[/red] {escape(message)}")
    if found:
        raise typer.Exit(1)
    err.print(f"[green]✓[/green] {escape(str(config) if config else 'the defaults')} is valid")
