"""``GET /v1/reports/{id}`` against a bare Starlette JSON route, served the same way, one run.

Sides, each a fresh server process on 127.0.0.1, measured one after the other:

* bare: a Starlette app with one route returning the same report JSON, under uvicorn with the
  settings ``reportd serve`` uses (one process, uvloop/httptools, log level warning);
* reportd on SQLite (the embedded default) and on PostgreSQL: ``reportd serve``, one report
  made and finished first, then the same GET with an admin key.

The load comes from ``wrk`` (Debian's, installed if missing) in its own process: 64 connections,
one thread, a short warm-up, then ``--seconds`` of measurement. It prints requests/s, p50/p99
latency, the server's peak RSS, and the ratios reportd / bare (requests/s) and bare / reportd
(latency), so 1.0 is "as fast as the bare route" for both. Target: at least 0.5.
Usage: ``python bench/api.py [--seconds 10] [--connections 64] [--backends sqlite postgresql]``.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import httpx
from _common import (
    Child,
    admin_key,
    conditions,
    ensure_tool,
    free_port,
    pg_database,
    serve,
    wait_finished,
    wait_for_quiet,
    wait_http,
    write_world,
)

WARMUP_SECONDS = 2


@dataclass(frozen=True)
class Load:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    peak_rss_mb: float


def bare_server(port: int, body_file: str) -> None:
    """The baseline: one Starlette JSON route, run like ``reportd serve`` runs its app."""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    body = json.loads(Path(body_file).read_text())

    async def report(request: Request) -> JSONResponse:
        return JSONResponse(body)

    app = Starlette(routes=[Route("/v1/reports/{report_id}", report)])
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([0-9.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(value) * _UNITS[unit]


def wrk(
    url: str, seconds: int, connections: int, key: str | None
) -> tuple[float, float, float, int]:
    """requests/s, p50 ms, p99 ms, non-2xx count."""
    command = [ensure_tool("wrk", "wrk"), "-t1", f"-c{connections}", f"-d{seconds}s", "--latency"]
    if key:
        command += ["-H", f"Authorization: Bearer {key}"]
    out = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([0-9.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"\s50%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"\s99%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    if socket_errors:
        print(f"  wrk socket errors: {socket_errors.group(1)}")
    return rps, p50, p99, int(bad.group(1)) if bad else 0


def measure(child: Child, url: str, args: argparse.Namespace, key: str | None) -> Load:
    wrk(url, WARMUP_SECONDS, args.connections, key)
    rps, p50, p99, errors = wrk(url, args.seconds, args.connections, key)
    return Load(rps, p50, p99, errors, child.peak_rss_mb())


def run_bare(work: Path, body: dict[str, object], args: argparse.Namespace) -> Load:
    body_file = work / "report.json"
    body_file.write_text(json.dumps(body))
    port = free_port()
    command = [sys.executable, __file__, "--bare-server", str(port), str(body_file)]
    child = Child.start(command, work / "bare.log")
    try:
        wait_http(f"http://127.0.0.1:{port}/v1/reports/x", child)
        return measure(child, f"http://127.0.0.1:{port}/v1/reports/{body['id']}", args, None)
    finally:
        child.stop()


def run_reportd(
    work: Path, database_url: str | None, args: argparse.Namespace
) -> tuple[Load, dict[str, object]]:
    config = write_world(work, database_url)
    key = admin_key(config)
    port = free_port()
    child = serve(config, port, work / "serve.log")
    base = f"http://127.0.0.1:{port}"
    try:
        headers = {"Authorization": f"Bearer {key}"}
        with httpx.Client(base_url=base, headers=headers, timeout=30) as api:
            created = api.post("/v1/reports", json={"template_id": "orders", "formats": ["csv"]})
            created.raise_for_status()
            body = wait_finished(api, created.json()["id"])
        load = measure(child, f"{base}/v1/reports/{body['id']}", args, key)
    finally:
        child.stop()
    return load, body


def _row(name: str, load: Load, bare: Load | None) -> str:
    ratios = ""
    if bare is not None:
        ratios = (
            f" {load.rps / bare.rps:>9.2f} {bare.p50_ms / load.p50_ms:>9.2f} "
            f"{bare.p99_ms / load.p99_ms:>9.2f}"
        )
    return (
        f"{name:<20} {load.rps:>9.0f} {load.p50_ms:>8.2f} {load.p99_ms:>8.2f} "
        f"{load.peak_rss_mb:>7.0f} {load.errors:>6}{ratios}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--bare-server", nargs=2, metavar=("PORT", "BODY"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare_server:
        bare_server(int(args.bare_server[0]), args.bare_server[1])
        return
    ensure_tool("wrk", "wrk")
    wait_for_quiet()
    print(
        f"GET /v1/reports/{{id}}: {args.connections} connections, wrk -t1, {args.seconds} s a side"
    )
    results: dict[str, Load] = {}
    body: dict[str, object] | None = None
    with tempfile.TemporaryDirectory(prefix="reportd-bench-api-") as tmp:
        work = Path(tmp)
        for backend in args.backends:
            (work / backend).mkdir()
            if backend == "postgresql":
                with pg_database() as url:
                    results[f"reportd {backend}"], body = run_reportd(work / backend, url, args)
            else:
                results[f"reportd {backend}"], body = run_reportd(work / backend, None, args)
        assert body is not None
        bare = run_bare(work, body, args)
    print(f"{'side':<20} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'RSS MB':>7} {'non2xx':>6}"
          f" {'req/s x':>9} {'p50 x':>9} {'p99 x':>9}")  # fmt: skip
    print(_row("bare starlette", bare, None))
    for name, load in results.items():
        print(_row(name, load, bare))
    print("x = reportd / bare for req/s, bare / reportd for latency: 1.0 is as fast as bare")
    print(f"# {conditions()} (at the end)")


if __name__ == "__main__":
    main()
