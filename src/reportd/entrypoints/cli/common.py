"""What the ``reportd`` commands share: options, consoles, settings, the wired service.

``reportd --help`` must start at once (bench/sources.py measures it beside ``python -c
pass``), so nothing heavy is imported at the top of any CLI module: rich, the settings
(pydantic), the service (SQLAlchemy) and the rest are imported by the function that uses
them. ``out`` and ``err`` are consoles made on first use.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from reportd.domain.errors import ReportdError

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    from reportd.bootstrap import App
    from reportd.config import Settings


class _LazyConsole:
    """A rich Console, created (and rich imported) on its first use."""

    def __init__(self, *, stderr: bool) -> None:
        self._stderr = stderr
        self._console: Console | None = None

    def get(self) -> Console:
        if self._console is None:
            from rich.console import Console

            self._console = Console(stderr=self._stderr, soft_wrap=True)
        return self._console

    def __getattr__(self, name: str) -> Any:
        return getattr(self.get(), name)


def escape(text: str) -> str:
    from rich.markup import escape as rich_escape

    return rich_escape(text)


out: Any = _LazyConsole(stderr=False)
err: Any = _LazyConsole(stderr=True)

ConfigOpt = Annotated[
    Path | None,
    typer.Option("--config", "-c", envvar="REPORTD_CONFIG", help="reportd.toml to use."),
]
DataDirOpt = Annotated[
    Path | None, typer.Option("--data-dir", envvar="REPORTD_DATA_DIR", help="Embedded data dir.")
]


def _settings(config: Path | None, **overrides: Any) -> Settings:
    from reportd.config import load_settings

    try:
        return load_settings(config, **overrides)
    except ReportdError as exc:
        _fail(exc)
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        err.print(f"[red]error[/red] [bold]configuration_error[/bold]: {escape(str(exc))}")
        raise typer.Exit(2) from exc


def _table(*columns: str) -> Table:
    """A table that wraps long values instead of cutting them: ids and keys are copied from it."""
    from rich.table import Table

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
) -> App:
    """The wired service; ``metadata=False`` when the command never touches the database.

    ``wait``: a long-running process (serve, worker) waits for its database instead of
    failing, saying so once per attempt; a one-shot command fails at once.
    """
    from reportd.bootstrap import build_app
    from reportd.entrypoints.startup import prepare

    try:
        service = build_app(settings)
        if wait:
            _wait_for_database(service, settings.database_url)
        if prepared:
            prepare(settings, service, metadata=metadata)
    except ReportdError as exc:
        _fail(exc)
    return service


def _wait_for_database(service: App, url: str) -> None:
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
