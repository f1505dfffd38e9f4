"""Queue latency and throughput: create -> FINISHED for a 10-row report, and a 1,000-report burst.

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

import sys
from pathlib import Path

# Run as a script, this file's folder comes first on sys.path, and this file would shadow the
# standard library's ``queue`` (asyncio, httpx and thread pools import it): move the folder last.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE] + [str(_HERE)]

import argparse  # noqa: E402
import asyncio  # noqa: E402
import contextlib  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from datetime import datetime  # noqa: E402

import httpx  # noqa: E402
from _common import (  # noqa: E402
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


@contextlib.contextmanager
def stack(
    work: Path, database_url: str | None, worker_processes: int
) -> Iterator[tuple[httpx.Client, list[Child]]]:
    """An API process (with in-process workers when ``worker_processes`` is 0) and workers."""
    config = write_world(work, database_url)
    key = admin_key(config)
    port = free_port()
    extra = ("--no-worker",) if worker_processes else ()
    children = [serve(config, port, work / "serve.log", *extra)]
    try:
        for n in range(worker_processes):
            command = [str(BIN / "reportd"), "worker", "--config", str(config)]
            children.append(Child.start(command, work / f"worker-{n}.log"))
        time.sleep(2.0 if worker_processes else 0.0)  # workers up and listening
        headers = {"Authorization": f"Bearer {key}"}
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=60) as api:
            yield api, children
    finally:
        for child in reversed(children):
            child.stop()


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


def burst(work: Path, database_url: str, count: int, processes: int) -> tuple[float, float]:
    """(seconds to create them all, reports/s from first created to last finished)."""
    with stack(work, database_url, processes) as (api, _):
        key = str(api.headers["authorization"]).split()[1]
        start = time.perf_counter()
        asyncio.run(_create_all(str(api.base_url).rstrip("/"), key, count))
        created_in = time.perf_counter() - start
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            page = api.get("/v1/reports", params={"state": "FINISHED", "limit": 1}).json()
            if page["total_count"] >= count:
                break
            time.sleep(0.2)
        else:
            raise SystemExit(f"the burst did not finish in 600 s ({page['total_count']} done)")
        stamps: list[dict[str, object]] = []
        cursor = None
        while True:
            params: dict[str, object] = {"limit": 1000, **({"cursor": cursor} if cursor else {})}
            page = api.get("/v1/reports", params=params).json()
            stamps += page["results"]
            cursor = page["next_cursor"]
            if not cursor:
                break
    first = min(_stamp(r["created_at"]) for r in stamps)
    last = max(_stamp(r["finished_at"]) for r in stamps)
    return created_in, len(stamps) / (last - first).total_seconds()


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
        print(f"{'worker processes':<18} {'create s':>9} {'reports/s':>10}")
        for processes in args.workers:
            (work / f"burst-{processes}").mkdir()
            with pg_database() as url:
                created_in, rate = burst(work / f"burst-{processes}", url, args.burst, processes)
            print(f"{processes:<18} {created_in:>9.1f} {rate:>10.1f}", flush=True)
    print(f"# {conditions()} (at the end)")


if __name__ == "__main__":
    main()
