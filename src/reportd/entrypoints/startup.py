"""What a process does on start, before it serves: migrate the embedded default, lay out the demo.

Why in the entrypoints and not the composition root: only a process that starts (``reportd
serve``, ``reportd worker``, a CLI command on the embedded default) decides to migrate or to
build the demo's data (``reportd.adapters.demo_data``); building the app never does either.
"""

from __future__ import annotations

import logging

from reportd.bootstrap import App, ensure_demo_tenant
from reportd.config import Settings

__all__ = ["ensure_demo_data", "prepare"]

log = logging.getLogger("reportd")


def prepare(settings: Settings, app: App, *, metadata: bool = True) -> None:
    """Migrate SQLite (the embedded default), and lay out the demo if asked."""
    if metadata and settings.database_url.startswith("sqlite"):
        app.migrate()
    if settings.demo_enabled:
        ensure_demo_data(settings)
        if metadata:
            ensure_demo_tenant(app)


def ensure_demo_data(settings: Settings) -> None:
    from reportd.adapters.demo_data import build_demo_database

    path = settings.data_dir / "demo.duckdb"
    if not path.exists():
        counts = build_demo_database(path)
        log.info("demo data built", extra={"action": "demo_data", "rows": sum(counts.values())})
