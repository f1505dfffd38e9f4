"""``GET /v1/reports/{id}``: reportd against bare Starlette routes, one run, wrk 64 connections.

For each metadata database (SQLite, PostgreSQL) and each number of HTTP processes (1, 2):

* bare-db: a Starlette app whose one route reads the same report row and its artifacts by
  primary key with the same async driver reportd uses (aiosqlite / asyncpg, one statement) and
  returns the same JSON (checked once against reportd's body), under uvicorn with N workers;
* reportd: ``reportd serve --http-processes N --no-worker`` with an admin key;

and, as the earlier baseline, bare-json: one Starlette route returning that JSON from memory,
with N workers. Each side is a fresh server; wrk runs in its own process (``-t1``, a 2 s
warm-up, then ``--seconds``). Printed per row: requests/s, p50/p99, the 1-minute load average
before the measurement, and the ratios reportd / bare-db and reportd / bare-json (1.0: as fast
as the bare route), then requests/s scaling from 1 to 2 processes. Targets (issue 15):
reportd >= 0.5 of bare-db with the same processes, p99 < 50 ms, scaling >= 1.6x.
Usage: ``python bench/api.py [--seconds 10] [--connections 64] [--backends sqlite postgresql]
[--processes 1 2]``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from _common import (
    BIN,
    Child,
    admin_key,
    clean_env,
    conditions,
    ensure_tool,
    free_port,
    load_average,
    pg_database,
    serve,
    wait_finished,
    wait_for_quiet,
    wait_http,
    write_world,
)

WARMUP_SECONDS = 2
HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Load:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    load_before: float


# -- the bare servers (run as child processes of this script) -----------------------------

REPORT_COLUMNS = (
    "id, tenant_id, template_id, name, state, options, fields, filter, order_by, formats, "
    "packaging, zip_password, storage_id, rows, total_rows, created_by, schedule_id, "
    "created_at, started_at, finished_at, expires_at, error_code, error_message, scheduled_for"
)
ART = "format, packaging, filename, mime_type, size, sha256, part, rows"


def _pairs() -> str:
    return ", ".join(f"'{c}', a.{c}" for c in ART.split(", "))


PG_SQL = (
    f"SELECT {REPORT_COLUMNS}, (SELECT coalesce(json_agg(json_build_object({_pairs()}) "
    "ORDER BY a.id), '[]') FROM artifacts a WHERE a.report_id = r.id) AS artifacts "
    "FROM reports r WHERE r.id = $1"
)
SQLITE_SQL = (
    f"SELECT {REPORT_COLUMNS}, (SELECT coalesce(json_group_array(json_object({_pairs()})), "
    "'[]') FROM (SELECT * FROM artifacts WHERE report_id = r.id ORDER BY id) a) AS artifacts "
    "FROM reports r WHERE r.id = ?"
)


def _stamp(value: Any) -> str | None:
    """A timestamp as pydantic writes it (ISO 8601, UTC as Z)."""
    from datetime import UTC, datetime

    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def body_of(row: Any) -> dict[str, Any]:
    """The report resource's JSON from one row, by hand: the least a route can do."""
    import orjson

    def js(v: Any) -> Any:
        return orjson.loads(v) if isinstance(v, str | bytes) else v

    total = row["total_rows"]
    rows = row["rows"]
    base = f"/v1/reports/{row['id']}"
    error = None
    if row["error_code"]:
        error = {"code": row["error_code"], "message": row["error_message"] or ""}
    percent = None
    if total is not None:
        percent = 100.0 if total == 0 else round(min(100.0, 100.0 * rows / total), 1)
    return {
        "id": row["id"], "tenant_id": row["tenant_id"], "template_id": row["template_id"],
        "name": row["name"], "state": row["state"], "options": js(row["options"]),
        "fields": js(row["fields"]), "filter": row["filter"], "order_by": js(row["order_by"]),
        "formats": js(row["formats"]), "packaging": row["packaging"],
        "zip_password": row["zip_password"],
        "progress": {"rows": rows, "total_rows": total, "percent": percent},
        "created_by": row["created_by"], "schedule_id": row["schedule_id"],
        "created_at": _stamp(row["created_at"]), "started_at": _stamp(row["started_at"]),
        "finished_at": _stamp(row["finished_at"]), "expires_at": _stamp(row["expires_at"]),
        "error": error, "storage_id": row["storage_id"], "artifacts": js(row["artifacts"]),
        "links": {"self": base, "events": f"{base}/events", "download": f"{base}/download",
                  "cancel": f"{base}/cancel"},
        "scheduled_for": _stamp(row["scheduled_for"]), "deduplicated": False,
    }  # fmt: skip


def bare_db_app() -> Any:
    """Factory (uvicorn --factory) for the bare-db side; BENCH_DB is a SQLAlchemy URL."""
    from contextlib import asynccontextmanager

    import orjson
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    url = os.environ["BENCH_DB"]
    state: dict[str, Any] = {}

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> Any:
        if url.startswith("sqlite"):
            import aiosqlite

            conn = await aiosqlite.connect(url.split(":///", 1)[1])
            conn.row_factory = aiosqlite.Row
            state["conn"] = conn
        else:
            import asyncpg

            dsn = "postgresql://" + url.split("://", 1)[1]
            state["pool"] = await asyncpg.create_pool(dsn, min_size=1, max_size=10)
        yield
        if "conn" in state:
            await state["conn"].close()
        else:
            await state["pool"].close()

    async def report(request: Request) -> Response:
        report_id = request.path_params["report_id"]
        if "conn" in state:
            async with state["conn"].execute(SQLITE_SQL, (report_id,)) as cursor:
                row = await cursor.fetchone()
        else:
            row = await state["pool"].fetchrow(PG_SQL, report_id)
        if row is None:
            return Response(status_code=404)
        return Response(orjson.dumps(body_of(row)), media_type="application/json")

    return Starlette(routes=[Route("/v1/reports/{report_id}", report)], lifespan=lifespan)


def bare_json_app() -> Any:
    """Factory for the bare-json side (the earlier baseline): BENCH_BODY from memory."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    body = json.loads(Path(os.environ["BENCH_BODY"]).read_text())

    async def report(request: Request) -> JSONResponse:
        return JSONResponse(body)

    return Starlette(routes=[Route("/v1/reports/{report_id}", report)])


def run_bare_server(factory: str, port: int, processes: int) -> None:
    import uvicorn

    uvicorn.run(
        f"api:{factory}",
        factory=True,
        app_dir=str(HERE),
        host="127.0.0.1",
        port=port,
        workers=processes if processes > 1 else None,
        log_level="warning",
    )


# -- measuring ----------------------------------------------------------------------------

_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([0-9.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(value) * _UNITS[unit]


def wrk(url: str, seconds: int, connections: int, key: str | None) -> Load:
    command = [ensure_tool("wrk", "wrk"), "-t1", f"-c{connections}", f"-d{seconds}s", "--latency"]
    if key:
        command += ["-H", f"Authorization: Bearer {key}"]
    load_before = load_average()
    out = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([0-9.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"\s50%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"\s99%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    if socket_errors:
        print(f"  wrk socket errors: {socket_errors.group(1)}")
    return Load(rps, p50, p99, int(bad.group(1)) if bad else 0, load_before)


def measure(url: str, args: argparse.Namespace, key: str | None) -> Load:
    wrk(url, WARMUP_SECONDS, args.connections, key)
    return wrk(url, args.seconds, args.connections, key)


def bare_side(
    work: Path, factory: str, processes: int, env: dict[str, str], report_id: str
) -> tuple[Load, Any]:
    port = free_port()
    command = [sys.executable, __file__, "--bare-server", factory, str(port), str(processes)]
    child = Child.start(command, work / f"{factory}-{processes}.log", env=clean_env(**env))
    url = f"http://127.0.0.1:{port}/v1/reports/{report_id}"
    try:
        wait_http(url, child)
        body = httpx.get(url, timeout=10).json()
        return measure(url, ARGS, None), body
    finally:
        child.stop()


def reportd_side(
    config: Path, key: str, processes: int, work: Path, report_id: str
) -> tuple[Load, Any]:
    port = free_port()
    extra = ("--no-worker", "--http-processes", str(processes))
    child = serve(config, port, work / f"reportd-{processes}.log", *extra)
    url = f"http://127.0.0.1:{port}/v1/reports/{report_id}"
    try:
        body = httpx.get(url, headers={"Authorization": f"Bearer {key}"}, timeout=10).json()
        return measure(url, ARGS, key), body
    finally:
        child.stop()


def prepare_world(work: Path, database_url: str | None) -> tuple[Path, str, str, str]:
    """A world with one finished CSV report: (config, key, report id, SQLAlchemy URL)."""
    config = write_world(work, database_url)
    key = admin_key(config)
    port = free_port()
    child = serve(config, port, work / "prepare.log")
    try:
        headers = {"Authorization": f"Bearer {key}"}
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers) as api:
            created = api.post("/v1/reports", json={"template_id": "orders", "formats": ["csv"]})
            created.raise_for_status()
            report_id = str(wait_finished(api, created.json()["id"])["id"])
    finally:
        child.stop()
    url = database_url or f"sqlite:///{(work / 'data' / 'reportd.db').resolve()}"
    return config, key, report_id, url


ARGS: argparse.Namespace


def run_backend(work: Path, backend: str, database_url: str | None) -> list[dict[str, Any]]:
    config, key, report_id, url = prepare_world(work, database_url)
    rows = []
    for processes in ARGS.processes:
        reportd, reportd_body = reportd_side(config, key, processes, work, report_id)
        bare, bare_body = bare_side(work, "bare_db_app", processes, {"BENCH_DB": url}, report_id)
        if bare_body != reportd_body:
            print(f"  NOTE: bare-db body differs from reportd's: {_diff(bare_body, reportd_body)}")
        body_file = work / "body.json"
        body_file.write_text(json.dumps(reportd_body))
        env = {"BENCH_BODY": str(body_file)}
        bare_json, _ = bare_side(work, "bare_json_app", processes, env, report_id)
        rows.append(
            {"backend": backend, "processes": processes, "reportd": reportd, "bare_db": bare,
             "bare_json": bare_json}
        )  # fmt: skip
    return rows


def _diff(a: dict[str, Any], b: dict[str, Any]) -> str:
    keys = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
    return ", ".join(f"{k}: {a.get(k)!r} vs {b.get(k)!r}" for k in keys)


def report(rows: list[dict[str, Any]]) -> None:
    print()
    print(
        f"{'backend':<10} {'proc':>4} {'side':<9} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'load':>5} {'non2xx':>6}  ratios"
    )
    for row in rows:
        r, b, j = row["reportd"], row["bare_db"], row["bare_json"]
        for name, load in (("bare-db", b), ("bare-json", j), ("reportd", r)):
            ratio = ""
            if name == "reportd":
                ratio = f"x bare-db {r.rps / b.rps:.2f} · x bare-json {r.rps / j.rps:.2f}"
            print(
                f"{row['backend']:<10} {row['processes']:>4} {name:<9} {load.rps:>8.0f} "
                f"{load.p50_ms:>7.2f} {load.p99_ms:>7.2f} {load.load_before:>5.2f} "
                f"{load.errors:>6}  {ratio}"
            )
    print()
    for backend in dict.fromkeys(row["backend"] for row in rows):
        by = {row["processes"]: row for row in rows if row["backend"] == backend}
        if 1 in by and 2 in by:
            parts = [
                f"{side} {by[2][side].rps / by[1][side].rps:.2f}x"
                for side in ("reportd", "bare_db", "bare_json")
            ]
            print(f"scaling 1 -> 2 processes, {backend}: " + " · ".join(parts))
    print("targets: reportd >= 0.5 x bare-db (same processes), p99 < 50 ms, scaling >= 1.6x")


def main() -> None:
    global ARGS
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--processes", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--bare-server", nargs=3, help=argparse.SUPPRESS)
    ARGS = parser.parse_args()
    if ARGS.bare_server:
        factory, port, processes = ARGS.bare_server
        run_bare_server(factory, int(port), int(processes))
        return
    ensure_tool("wrk", "wrk")
    assert (BIN / "reportd").exists()
    wait_for_quiet()
    print(
        f"GET /v1/reports/{{id}}: {ARGS.connections} connections, wrk -t1, {ARGS.seconds} s a side"
    )
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="reportd-bench-api-") as tmp:
        for backend in ARGS.backends:
            work = Path(tmp) / backend
            work.mkdir()
            if backend == "postgresql":
                with pg_database() as url:
                    rows += run_backend(work, backend, url)
            else:
                rows += run_backend(work, backend, None)
    report(rows)
    print(f"# {conditions()} (at the end)")


if __name__ == "__main__":
    main()
