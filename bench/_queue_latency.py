"""The code of ``bench/queue.py`` (see there: that name would shadow the stdlib here).

Queue latency and throughput: create -> FINISHED for a 10-row report, and a 1,000-report burst.

Latency (``--reports`` sequential reports, one at a time, CSV of 10 rows):

* embedded: ``reportd serve`` on SQLite with its in-process workers (the default);
* PostgreSQL: ``reportd serve --no-worker`` plus one ``reportd worker`` process.

For each report the client times POST -> the first GET that shows FINISHED (it polls every
``POLL`` seconds; that bounds the resolution), and the server's own ``finished_at -
created_at``. It prints p50 and p99 of both. Target: p50 at most 100 ms.

Throughput: ``--burst`` reports created at once (16 concurrent clients) against an API process
on PostgreSQL with 1, 2 and 4 ``reportd worker`` processes (default slots each) already
running; reports/s = reports / (last ``finished_at`` - first ``created_at``), from the server's
timestamps. Usage: ``python bench/queue.py [--reports 200] [--burst 1000] [--workers 1 2 4]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import httpx
from _common import (
    BIN,
    Child,
    admin_key,
    conditions,
    free_port,
    pg_database,
    serve,
    wait_for_quiet,
    write_world,
)

POLL = 0.002  # seconds between the client's GETs while it waits for FINISHED
BODY = {"template_id": "orders", "formats": ["csv"], "options": {"rows": 10}}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _stamp(value: object) -> datetime:
    return datetime.fromisoformat(str(value))


class Stack:
    """An API process (with in-process workers when ``embedded``) and ``reportd worker``s."""

    def __init__(self, work: Path, database_url: str | None, embedded: bool) -> None:
        self.work = work
        self.config = write_world(work, database_url)
        self.key = admin_key(self.config)
        port = free_port()
        extra = () if embedded else ("--no-worker",)
        self.children = [serve(self.config, port, work / "serve.log", *extra)]
        self.url = f"http://127.0.0.1:{port}"

    def add_workers(self, processes: int) -> None:
        for _ in range(processes):
            command = [str(BIN / "reportd"), "worker", "--config", str(self.config)]
            log = self.work / f"worker-{len(self.children)}.log"
            self.children.append(Child.start(command, log))

    def stop(self) -> None:
        for child in reversed(self.children):
            child.stop()


@contextlib.contextmanager
def stack(
    work: Path, database_url: str | None, worker_processes: int, embedded: bool | None = None
) -> Iterator[tuple[httpx.Client, Stack]]:
    """``worker_processes`` workers; in-process ones (by default when that is 0) if ``embedded``."""
    embedded = worker_processes == 0 if embedded is None else embedded
    running = Stack(work, database_url, embedded)
    try:
        running.add_workers(worker_processes)
        time.sleep(2.0 if worker_processes else 0.0)  # workers up and listening
        headers = {"Authorization": f"Bearer {running.key}"}
        with httpx.Client(base_url=running.url, headers=headers, timeout=60) as api:
            yield api, running
    finally:
        running.stop()


def one_report(api: httpx.Client) -> tuple[float, float]:
    """Client-seen and server-recorded seconds from create to FINISHED."""
    start = time.perf_counter()
    created = api.post("/v1/reports", json=BODY)
    created.raise_for_status()
    report_id = created.json()["id"]
    while True:
        report = api.get(f"/v1/reports/{report_id}").json()
        if report["state"] == "FINISHED":
            seen = time.perf_counter() - start
            server = _stamp(report["finished_at"]) - _stamp(report["created_at"])
            return seen, server.total_seconds()
        if report["state"] not in ("CREATED", "IN_PROGRESS"):
            raise SystemExit(f"report {report_id} ended {report['state']}: {report['error']}")
        time.sleep(POLL)


def latency(work: Path, database_url: str | None, count: int) -> tuple[list[float], list[float]]:
    with stack(work, database_url, 0 if database_url is None else 1) as (api, _):
        for _ in range(5):  # warm-up: imports, DuckDB, connection pools
            one_report(api)
        runs = [one_report(api) for _ in range(count)]
    return [r[0] for r in runs], [r[1] for r in runs]


async def _create_all(url: str, key: str, count: int, clients: int = 16) -> None:
    limits = httpx.Limits(max_connections=clients)
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=url, headers=headers, limits=limits, timeout=60) as api:
        queue = iter(range(count))

        async def creator() -> None:
            for _ in queue:
                (await api.post("/v1/reports", json=BODY)).raise_for_status()

        await asyncio.gather(*(creator() for _ in range(clients)))


def _wait_all_finished(api: httpx.Client, count: int) -> list[dict[str, object]]:
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        page = api.get("/v1/reports", params={"state": "FINISHED", "limit": 1}).json()
        if page["total_count"] >= count:
            break
        time.sleep(0.2)
    else:
        raise SystemExit(f"the burst did not finish in 600 s ({page['total_count']} done)")
    found: list[dict[str, object]] = []
    cursor = None
    while True:
        params: dict[str, object] = {"limit": 1000, **({"cursor": cursor} if cursor else {})}
        page = api.get("/v1/reports", params=params).json()
        found += page["results"]
        cursor = page["next_cursor"]
        if not cursor:
            return found


def _rate(found: list[dict[str, object]], since: str) -> float:
    first = min(_stamp(r[since]) for r in found)
    last = max(_stamp(r["finished_at"]) for r in found)
    return len(found) / (last - first).total_seconds()


def burst(work: Path, count: int, processes: int) -> tuple[float, float, float]:
    """Seconds to create them all; reports/s from first created to last finished, with the
    workers running during the burst; and reports/s of the same workers draining a backlog
    of ``count`` queued reports (first started to last finished)."""
    with pg_database() as url, stack(work / "live", url, processes) as (api, running):
        start = time.perf_counter()
        asyncio.run(_create_all(running.url, running.key, count))
        created_in = time.perf_counter() - start
        live = _rate(_wait_all_finished(api, count), "created_at")
    with pg_database() as url, stack(work / "backlog", url, 0, embedded=False) as (api, running):
        asyncio.run(_create_all(running.url, running.key, count))
        running.add_workers(processes)
        drained = _rate(_wait_all_finished(api, count), "started_at")
    return created_in, live, drained


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=200)
    parser.add_argument("--burst", type=int, default=1000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    args = parser.parse_args()
    wait_for_quiet()
    with tempfile.TemporaryDirectory(prefix="reportd-bench-queue-") as tmp:
        work = Path(tmp)
        print(f"create -> FINISHED, {args.reports} sequential 10-row CSV reports (poll {POLL}s)")
        print(f"{'setup':<32} {'p50 ms':>8} {'p99 ms':>8} {'server p50':>10} {'server p99':>10}")
        setups: list[tuple[str, str | None]] = [
            ("embedded (SQLite, in-process)", None),
            ("PostgreSQL (API + 1 worker)", "pg"),
        ]
        for name, backend in setups:
            (work / name[:8]).mkdir()
            with pg_database() if backend else contextlib.nullcontext(None) as url:
                seen, server = latency(work / name[:8], url, args.reports)
            print(
                f"{name:<32} {statistics.median(seen) * 1000:>8.1f} "
                f"{percentile(seen, 0.99) * 1000:>8.1f} {statistics.median(server) * 1000:>10.1f} "
                f"{percentile(server, 0.99) * 1000:>10.1f}",
                flush=True,
            )
        print(f"\n{args.burst}-report burst on PostgreSQL (16 concurrent creators)")
        print("live: workers running while the burst is created (first created -> last finished)")
        print(
            "backlog: the same reports queued first, then drained (first started -> last finished)"
        )
        print(f"{'worker processes':<18} {'create s':>9} {'live rep/s':>11} {'backlog rep/s':>14}")
        for processes in args.workers:
            created_in, live, drained = burst(work / f"burst-{processes}", args.burst, processes)
            print(f"{processes:<18} {created_in:>9.1f} {live:>11.1f} {drained:>14.1f}", flush=True)
    print(f"# {conditions()} (at the end)")


if __name__ == "__main__":
    main()
