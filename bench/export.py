"""reportd's export against DuckDB's own ``COPY ... TO`` of the same query, in one run.

Builds a DuckDB table of N rows x 8 columns (ints, floats, short strings, timestamps,
booleans), then for each size times, each in a fresh child process:

* the baseline: DuckDB ``COPY (query) TO file`` (CSV with HEADER, JSON = NDJSON, Parquet),
  with the same thread and memory settings the worker uses;
* reportd: ``reportd export`` (the real CLI, the real pipeline the workers run).

It prints seconds, the ratio reportd / DuckDB, and each child's peak RSS (``wait4`` rusage).
Usage: ``python bench/export.py [--rows 1000000 5000000] [--formats csv ndjson] [--repeat 1]``.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

THREADS = 2
MEMORY_LIMIT = "64MB"  # reportd's worker default ([worker] duckdb_memory_limit)
EXTRA_ENV: dict[str, str] = {}
BASELINE_MEMORY_LIMIT = "1GB"  # DuckDB's COPY gets room to work at its best
QUERY = "SELECT id, amount, price, customer, region, created_at, updated_at, paid FROM t"

TEMPLATE = """\
id: bench
name: Bench
source: bench
query: |
  SELECT id, amount, price, customer, region, created_at, updated_at, paid FROM t
  WHERE :tenant_id IS NOT NULL
fields:
  - {name: id, type: integer}
  - {name: amount, type: integer}
  - {name: price, type: number}
  - {name: customer, type: string}
  - {name: region, type: string}
  - {name: created_at, type: datetime}
  - {name: updated_at, type: datetime}
  - {name: paid, type: boolean}
formats: [csv, json, ndjson, xlsx, parquet, pdf]
display_name: bench
timeout: 3600
"""

COPY_OPTIONS = {
    "csv": "(FORMAT CSV, HEADER)",
    "ndjson": "(FORMAT JSON)",
    "json": "(FORMAT JSON, ARRAY true)",
    "parquet": "(FORMAT PARQUET, COMPRESSION zstd)",
}


@dataclass(frozen=True)
class Run:
    seconds: float  # the child process, start to exit
    work_seconds: float  # the export alone, as the child measured it (no interpreter start-up)
    peak_rss_mb: float
    size: int


def build_table(path: Path, rows: int) -> None:
    with duckdb.connect(str(path)) as con:
        con.execute(
            f"""
            CREATE OR REPLACE TABLE t AS
            SELECT range AS id,
                   (hash(range) % 100000)::BIGINT AS amount,
                   round((hash(range * 7) % 1000000) / 100.0, 2) AS price,
                   'customer_' || (hash(range * 13) % 50000)::VARCHAR AS customer,
                   ['north', 'south', 'east', 'west'][(range % 4) + 1] AS region,
                   TIMESTAMP '2024-01-01' + to_seconds((hash(range) % 31536000)::BIGINT)
                       AS created_at,
                   TIMESTAMP '2024-06-01' + to_microseconds((hash(range * 3) % 10000000000)::BIGINT)
                       AS updated_at,
                   range % 3 = 0 AS paid
            FROM range({rows})
            """
        )


WORK = re.compile(rb"in ([0-9.]+) s")


def timed_child(
    command: list[str], env: dict[str, str] | None = None
) -> tuple[float, float, float]:
    """Wall seconds, the seconds the child says its work took, and peak RSS (MB)."""
    start = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert process.stdout is not None
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"child failed: {' '.join(command)}\n{output.decode()}")
    found = WORK.search(output)
    work = float(found.group(1)) if found else seconds
    return seconds, work, usage.ru_maxrss / 1024


def duckdb_copy(db: Path, fmt: str, out: Path) -> Run:
    script = textwrap.dedent(
        f"""
        import duckdb
        config = {{"threads": {THREADS}, "memory_limit": {BASELINE_MEMORY_LIMIT!r}}}
        con = duckdb.connect({str(db)!r}, read_only=True, config=config)
        start = time.perf_counter()
        con.execute("COPY ({QUERY}) TO {str(out)!r} {COPY_OPTIONS[fmt]}")
        print(f"in {{time.perf_counter() - start:.3f}} s")
        """
    )
    seconds, work, rss = timed_child([sys.executable, "-c", "import time" + script])
    return Run(seconds, work, rss, out.stat().st_size)


def reportd_export(config: Path, fmt: str, out: Path) -> Run:
    reportd = Path(sys.executable).with_name("reportd")
    command = [str(reportd), "export", "--config", str(config), "--template", "bench",
               "--format", fmt, "--tenant", "bench", "--output", str(out)]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith("REPORTD_")}
    env["REPORTD_WORKER__DUCKDB_THREADS"] = str(THREADS)
    env["REPORTD_WORKER__DUCKDB_MEMORY_LIMIT"] = MEMORY_LIMIT
    env.update(EXTRA_ENV)
    seconds, work, rss = timed_child(command, env)
    return Run(seconds, work, rss, out.stat().st_size)


def write_config(work: Path, db: Path) -> Path:
    templates = work / "templates"
    templates.mkdir(exist_ok=True)
    (templates / "bench.yaml").write_text(TEMPLATE)
    config = work / "reportd.toml"
    config.write_text(
        f'templates_dir = "templates"\ndata_dir = "data"\n\n'
        f'[[sources]]\nname = "bench"\nurl = "duckdb:///{db}"\n'
    )
    return config


def median_run(runs: list[Run]) -> Run:
    return Run(
        statistics.median(r.seconds for r in runs),
        statistics.median(r.work_seconds for r in runs),
        max(r.peak_rss_mb for r in runs),
        runs[-1].size,
    )


def bench_size(work: Path, rows: int, formats: list[str], repeat: int) -> None:
    db = work / f"bench-{rows}.duckdb"
    build_table(db, rows)
    config = write_config(work, db)
    limits = f"memory_limit: DuckDB COPY {BASELINE_MEMORY_LIMIT}, reportd {MEMORY_LIMIT}"
    print(f"\n{rows:,} rows x 8 columns  (threads={THREADS}; {limits})")
    print("work = the export itself as each child timed it; process = child start to exit")
    print(f"{'format':<8} {'duckdb work':>11} {'reportd work':>12} {'ratio':>6} "
          f"{'duckdb proc':>11} {'reportd proc':>12} {'ratio':>6} "
          f"{'duckdb MB':>9} {'reportd MB':>10} {'reportd bytes':>14}")  # fmt: skip
    for fmt in formats:
        base = None
        if fmt in COPY_OPTIONS:
            base = median_run([duckdb_copy(db, fmt, work / f"copy.{fmt}") for _ in range(repeat)])
        ours = median_run(
            [reportd_export(config, fmt, work / f"ours.{fmt}") for _ in range(repeat)]
        )
        print(_row(fmt, base, ours))
        for leftover in [*work.glob("copy.*"), *work.glob("ours.*")]:
            leftover.unlink()
    db.unlink()


def _row(fmt: str, base: Run | None, ours: Run) -> str:
    def num(value: float | None, width: int, digits: int = 2) -> str:
        return f"{value:{width}.{digits}f}" if value is not None else " " * (width - 1) + "-"

    work_ratio = ours.work_seconds / base.work_seconds if base else None
    proc_ratio = ours.seconds / base.seconds if base else None
    return (
        f"{fmt:<8} {num(base and base.work_seconds, 11)} {num(ours.work_seconds, 12)} "
        f"{num(work_ratio, 6)} {num(base and base.seconds, 11)} {num(ours.seconds, 12)} "
        f"{num(proc_ratio, 6)} {num(base and base.peak_rss_mb, 9, 0)} "
        f"{num(ours.peak_rss_mb, 10, 0)} {ours.size:14,}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 5_000_000])
    parser.add_argument("--formats", nargs="+", default=["csv"])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=None, help="[worker] batch_size")
    args = parser.parse_args()
    if args.batch_size:
        EXTRA_ENV["REPORTD_WORKER__BATCH_SIZE"] = str(args.batch_size)
    work = Path(tempfile.mkdtemp(prefix="reportd-bench-"))
    try:
        for rows in args.rows:
            bench_size(work, rows, args.formats, args.repeat)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
