"""``reportd demo``: the main job end to end on the embedded default, as a user would do it.

Starts the service (API + workers) on 127.0.0.1, asks for one report per format and
packaging through the HTTP API with the SDK, follows their progress, downloads the files
and prints what it made.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from reportd.config import Settings
from reportd.domain.errors import Unavailable


@dataclass(frozen=True, slots=True)
class DemoJob:
    label: str
    template_id: str
    format: str
    packaging: str = "none"
    zip_password: bool = False
    filter: str | None = None
    order_by: tuple[str, ...] = ()


def demo_jobs(formats: list[str]) -> list[DemoJob]:
    wanted = {
        "csv": DemoJob("CSV", "invoices", "csv", order_by=("-amount",)),
        "json": DemoJob("JSON", "certificate_orders", "json", filter='status eq "issued"'),
        "ndjson": DemoJob("NDJSON", "cloud_costs", "ndjson"),
        "xlsx": DemoJob("XLSX", "invoices", "xlsx"),
        "parquet": DemoJob("Parquet", "cloud_costs", "parquet"),
        "pdf": DemoJob("PDF with chart", "certificate_orders", "pdf", filter='product sw "ssl"'),
    }
    jobs = [job for fmt, job in wanted.items() if fmt in formats]
    jobs.append(DemoJob("CSV in an AES zip", "directory_users", "csv", "zip", zip_password=True))
    jobs.append(DemoJob("ZIP of CSV + JSON", "invoices", "csv+json+zip"))
    jobs.append(DemoJob("NDJSON gzip", "directory_devices", "ndjson", "gzip"))
    return jobs


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_server(settings: Settings, port: int) -> Iterator[tuple[str, Any]]:
    """The real app under uvicorn in a thread; yields its URL and the app."""
    from reportd.entrypoints.api.app import create_app

    app = create_app(settings)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="reportd-demo-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise Unavailable("the demo server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}", app
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def run_demo(settings: Settings, output: Path, *, port: int = 0, console: Console) -> None:
    from reportd.bootstrap import DEMO_TENANT
    from reportd.generation.formats.registry import available_formats
    from reportd.sdk.client import Client

    output.mkdir(parents=True, exist_ok=True)
    console.print(f"[bold]reportd demo[/bold]: embedded default in {settings.data_dir}")
    with running_server(settings, port or free_port()) as (url, app):
        key = app.state.core.tenants.create_key(DEMO_TENANT, "demo", ["admin"]).secret
        console.print(f"service up at {url}; making one report per format")
        jobs = demo_jobs([f.value for f in available_formats()])
        with Client(url, key) as client:
            made = _run_jobs(client, jobs, output, console)
    _print_table(made, console)
    console.print(f"[green]done[/green]: {len(made)} files in {output.resolve()}")


def _run_jobs(
    client: Any, jobs: list[DemoJob], output: Path, console: Console
) -> list[dict[str, Any]]:
    created = [
        (
            job,
            client.create_report(
                job.template_id,
                job.format.split("+"),
                name=f"Demo {job.label}",
                filter=job.filter,
                order_by=list(job.order_by) or None,
                packaging=job.packaging,
                zip_password=True if job.zip_password else None,
            ),
        )
        for job in jobs
    ]
    made: list[dict[str, Any]] = []
    columns = (
        TextColumn("{task.description:<22}"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[rows]:>9} rows"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console) as progress:
        tasks = {
            report["id"]: progress.add_task(job.label, total=100, rows=0) for job, report in created
        }
        for job, report in created:
            task = tasks[report["id"]]

            def show(current: dict[str, Any], task: Any = task) -> None:
                info = current["progress"]
                percent = info.get("percent")
                progress.update(task, completed=percent or 0, rows=info["rows"])

            final = client.wait(report["id"], timeout=600, on_progress=show)
            progress.update(task, completed=100, rows=final["progress"]["rows"])
            if final["state"] != "FINISHED":
                console.print(f"[red]{job.label}: {final['state']} {final.get('error')}[/red]")
                continue
            last = job.format.split("+")[-1]
            path = client.download(report["id"], output, format=last)
            artifact = next(a for a in final["artifacts"] if a["format"] == last)
            made.append({"job": job, "report": final, "artifact": artifact, "path": path})
    return made


def _print_table(made: list[dict[str, Any]], console: Console) -> None:
    """A table that wraps, never cuts; what must be copied (passwords) follows it whole."""
    table = Table(title="What the demo made", expand=False)
    for column in ("report", "template", "file", "rows", "bytes", "sha256"):
        table.add_column(
            column, overflow="fold", justify="right" if column in ("rows", "bytes") else "left"
        )
    for item in made:
        artifact, report = item["artifact"], item["report"]
        table.add_row(
            item["job"].label,
            report["template_id"],
            Path(item["path"]).name,
            f"{report['progress']['rows']:,}",
            f"{artifact['size']:,}",
            artifact["sha256"][:12],
        )
    console.print(table)
    for item in made:
        password = item["report"].get("zip_password")
        if password:
            console.print(f"zip password of {item['path']}: {password}", soft_wrap=True)
