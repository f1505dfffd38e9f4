"""Every SQL source against its own engine's dump, in one run, whole processes.

Builds the same N-row x 8-column table (ints, a float, short strings, two timestamps, a
boolean) in PostgreSQL, MariaDB, SQLite and DuckDB, then times, each in a fresh child process
with its peak RSS (``wait4``):

* the engine's own dump to CSV: ``psql \\copy (q) to f csv header``, ``mariadb --batch
  --quick -e q``, ``sqlite3 -csv -header db q``, DuckDB ``COPY (q) TO f (HEADER)``;
* ``reportd export`` to CSV and to Parquet (the real CLI, start-up included);
* a bare loop of the same driver's Arrow batches into ``pyarrow.parquet.ParquetWriter`` with
  reportd's settings (zstd level 3, row groups of 1M rows or 16 MB, dictionaries on strings): what
  reportd's Parquet is held to;
* ``reportd --help`` and ``reportd export --help`` beside ``python -c pass`` (median of 10).

Targets (issue 13): CSV within 1.25x of the dump (1.5x for MariaDB), Parquet within 1.25x of
the bare loop, ``--help`` under 0.15 s and 60 MB, every export under 250 MB.
``--memory`` instead exports CSV and Parquet at 1M and 10M rows from every source and prints
peak RSS only (flat from 1M to 10M is the target).

Usage: ``python bench/sources.py [--rows 5000000] [--engines postgresql mariadb sqlite duckdb]``
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).parent))
from _common import (
    PG_ADMIN_URL,
    Child,
    admin_key,
    clean_env,
    conditions,
    free_port,
    wait_finished,
    wait_http,
)

PY = sys.executable
REPORTD = str(Path(sys.executable).with_name("reportd"))
COLUMNS = "id, amount, price, customer, region, created_at, updated_at, paid"
QUERY = f"SELECT {COLUMNS} FROM t"
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
formats: [csv, parquet]
display_name: bench
timeout: 3600
"""
MYSQL = {"host": "127.0.0.1", "port": 3306, "user": "root"}


@dataclass(frozen=True)
class Run:
    seconds: float
    peak_rss_mb: float
    cpu_seconds: float = 0.0  # user + system: what a loaded machine does not inflate


def timed(
    command: list[str], *, stdout: Path | None = None, env: dict[str, str] | None = None
) -> Run:
    """One child process to its end: wall and CPU seconds and its own peak RSS (MB).

    The peak comes from GNU time wrapping the command: ``wait4`` on a direct child reports
    this (larger) process's RSS as the child's floor, since a vfork'd child shares its memory
    until it execs.
    """
    rss_file = Path(tempfile.mkstemp(prefix="reportd-rss-")[1])
    wrapped = ["/usr/bin/time", "-f", "%U %S %M", "-o", str(rss_file), *command]
    sink = stdout.open("wb") if stdout is not None else subprocess.DEVNULL
    start = time.perf_counter()
    try:
        done = subprocess.run(wrapped, stdout=sink, stderr=subprocess.PIPE, env=env, check=False)
    finally:
        if stdout is not None:
            sink.close()  # type: ignore[union-attr]
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"failed: {' '.join(command)}\n{done.stderr.decode(errors='replace')}")
    user, system, peak_kb = rss_file.read_text().split()[-3:]
    rss_file.unlink()
    return Run(seconds, int(peak_kb) / 1024, float(user) + float(system))


# -- the table, once per engine -------------------------------------------------------------


def in_child(function: str, *args: object) -> None:
    """Run one of this file's functions in a child process (DuckDB's memory stays there)."""
    call = f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); import sources; "
    call += f"sources.{function}(*{args!r})"
    subprocess.run([PY, "-c", call], check=True)


def build_csv(path: Path, rows: int) -> None:
    """The rows as a headerless CSV every engine loads (paid as 0/1)."""
    in_child("_build_csv", str(path), rows)


def _build_csv(path: str, rows: int) -> None:
    with duckdb.connect() as con:
        con.execute(
            f"""
            COPY (
              SELECT range AS id,
                     (hash(range) % 100000)::BIGINT AS amount,
                     round((hash(range * 7) % 1000000) / 100.0, 2) AS price,
                     'customer_' || (hash(range * 13) % 50000)::VARCHAR AS customer,
                     ['north', 'south', 'east', 'west'][(range % 4) + 1] AS region,
                     strftime(TIMESTAMP '2024-01-01' + to_seconds((hash(range) % 31536000)::BIGINT),
                              '%Y-%m-%d %H:%M:%S') AS created_at,
                     strftime(TIMESTAMP '2024-06-01'
                              + to_microseconds((hash(range * 3) % 10000000000)::BIGINT),
                              '%Y-%m-%d %H:%M:%S.%f') AS updated_at,
                     (range % 3 = 0)::INTEGER AS paid
              FROM range({rows})
            ) TO '{path}' (HEADER false)
            """
        )


@contextmanager
def postgres(data: Path) -> Iterator[str]:
    import psycopg

    name = f"reportd_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    try:
        ddl = (
            "CREATE TABLE t (id bigint, amount bigint, price double precision, customer text, "
            "region text, created_at timestamp, updated_at timestamp, paid int)"
        )
        psql(url, ddl)
        psql(url, f"\\copy t FROM '{data}' csv")
        psql(url, "ALTER TABLE t ALTER paid TYPE boolean USING paid = 1")
        psql(url, "VACUUM ANALYZE t")
        yield url
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def psql(url: str, command: str) -> None:
    subprocess.run(["psql", url, "-q", "-v", "ON_ERROR_STOP=1", "-c", command], check=True)


@contextmanager
def mariadb(data: Path) -> Iterator[str]:
    name = f"reportd_bench_{uuid.uuid4().hex[:8]}"
    ddl = (
        f"CREATE DATABASE {name}; USE {name}; CREATE TABLE t (id bigint PRIMARY KEY, "
        "amount bigint, price double, customer varchar(64), region varchar(16), "
        "created_at datetime, updated_at datetime(6), paid tinyint(1)); "
        f"LOAD DATA LOCAL INFILE '{data}' INTO TABLE t FIELDS TERMINATED BY ','"
    )
    mysql_cli("SET GLOBAL local_infile = 1")
    mysql_cli(ddl)
    try:
        yield f"mysql://root@127.0.0.1:3306/{name}"
    finally:
        mysql_cli(f"DROP DATABASE IF EXISTS {name}")


def mysql_cli(sql: str, database: str | None = None) -> None:
    command = ["mariadb", "-h", "127.0.0.1", "-u", "root", "--local-infile=1", "-e", sql]
    subprocess.run([*command, *([database] if database else [])], check=True)


@contextmanager
def sqlite(work: Path, data: Path) -> Iterator[str]:
    path = work / "bench.sqlite"
    ddl = (
        "CREATE TABLE t (id INTEGER, amount INTEGER, price REAL, customer TEXT, region TEXT, "
        "created_at TEXT, updated_at TEXT, paid INTEGER);"
    )
    subprocess.run(
        ["sqlite3", str(path)], input=f"{ddl}\n.mode csv\n.import {data} t\n", text=True, check=True
    )
    try:
        yield f"sqlite:///{path}"
    finally:
        path.unlink(missing_ok=True)


@contextmanager
def duck(work: Path, data: Path) -> Iterator[str]:
    path = work / "bench.duckdb"
    in_child("_build_duckdb", str(path), str(data))
    try:
        yield f"duckdb:///{path}"
    finally:
        path.unlink(missing_ok=True)


def _build_duckdb(path: str, data: str) -> None:
    with duckdb.connect(path) as con:
        con.execute(
            f"""CREATE TABLE t AS SELECT column0 AS id, column1 AS amount, column2 AS price,
                column3 AS customer, column4 AS region, column5::TIMESTAMP AS created_at,
                column6::TIMESTAMP AS updated_at, column7 = 1 AS paid
                FROM read_csv('{data}', header = false,
                    columns = {{'column0': 'BIGINT', 'column1': 'BIGINT', 'column2': 'DOUBLE',
                               'column3': 'VARCHAR', 'column4': 'VARCHAR', 'column5': 'VARCHAR',
                               'column6': 'VARCHAR', 'column7': 'INTEGER'}})"""
        )


# -- the runs --------------------------------------------------------------------------------


def engine_dump(kind: str, url: str, out: Path) -> Run:
    if kind == "postgresql":
        return timed(["psql", url, "-q", "-c", f"\\copy ({QUERY}) to '{out}' csv header"])
    if kind == "mariadb":
        database = url.rsplit("/", 1)[1]
        command = ["mariadb", "-h", "127.0.0.1", "-u", "root", "--batch", "--quick", database]
        return timed([*command, "-e", QUERY], stdout=out)
    if kind == "sqlite":
        return timed(
            ["sqlite3", "-csv", "-header", url.removeprefix("sqlite:///"), QUERY], stdout=out
        )
    script = textwrap.dedent(
        f"""
        import duckdb
        con = duckdb.connect({url.removeprefix("duckdb:///")!r}, read_only=True,
                             config={{"threads": 2, "memory_limit": "1GB"}})
        con.execute("COPY ({QUERY}) TO {str(out)!r} (FORMAT CSV, HEADER)")
        """
    )
    return timed([PY, "-c", script])


def reportd_export(config: Path, fmt: str, out: Path) -> Run:
    command = [REPORTD, "export", "--config", str(config), "--template", "bench",
               "--format", fmt, "--tenant", "bench", "--output", str(out)]  # fmt: skip
    env = clean_env(REPORTD_WORKER__DUCKDB_THREADS="2", REPORTD_WORKER__DUCKDB_MEMORY_LIMIT="64MB")
    return timed(command, env=env)


BARE_LOOP = """
import sys, pyarrow as pa, pyarrow.parquet as pq
kind, url, out = sys.argv[1:4]
query = {query!r}
if kind == "postgresql":
    import adbc_driver_postgresql.dbapi as m
    cur = m.connect(url, autocommit=True).cursor()
    cur.adbc_statement.set_options(**{{"adbc.postgresql.batch_size_hint_bytes": str(8 << 20)}})
    cur.execute(query); reader = cur.fetch_record_batch()
elif kind == "sqlite":
    import adbc_driver_sqlite.dbapi as m
    cur = m.connect(url.removeprefix("sqlite:///")).cursor()
    cur.adbc_statement.set_options(**{{"adbc.sqlite.query.batch_rows": "65536"}})
    cur.execute(query); reader = cur.fetch_record_batch()
elif kind == "mariadb":
    import connectorx
    reader = connectorx.read_sql(url, query, return_type="arrow_stream", batch_size=65536)
else:
    import duckdb
    con = duckdb.connect(url.removeprefix("duckdb:///"), read_only=True,
                         config={{"threads": 2, "memory_limit": "64MB"}})
    reader = con.sql(query).to_arrow_reader(65536)
schema = reader.schema
strings = [f.name for f in schema if pa.types.is_string(f.type)] or False
writer = pq.ParquetWriter(out, schema, compression="zstd", compression_level=3,
                          use_dictionary=strings)
pending, rows, size = [], 0, 0
for batch in reader:
    pending.append(batch); rows += batch.num_rows; size += batch.nbytes
    if rows >= 1048576 or size >= 16 << 20:  # reportd's row groups: 1M rows or 16 MB
        writer.write_table(pa.Table.from_batches(pending), row_group_size=rows)
        pending, rows, size = [], 0, 0
if pending:
    writer.write_table(pa.Table.from_batches(pending), row_group_size=rows)
writer.close()
"""


def bare_parquet(kind: str, url: str, out: Path) -> Run:
    script = BARE_LOOP.format(query=QUERY)
    return timed([PY, "-c", script, kind, _driver_url(kind, url), str(out)])


def _driver_url(kind: str, url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://") if kind == "postgresql" else url


def write_config(work: Path, url: str) -> Path:
    templates = work / "templates"
    templates.mkdir(exist_ok=True)
    (templates / "bench.yaml").write_text(TEMPLATE)
    config = work / "reportd.toml"
    config.write_text(
        f'templates_dir = "{templates}"\ndata_dir = "{work / "data"}"\n\n'
        f'[[sources]]\nname = "bench"\nurl = "{url}"\n'
    )
    return config


@contextmanager
def engine_table(kind: str, work: Path, data: Path) -> Iterator[str]:
    if kind == "postgresql":
        with postgres(data) as url:
            yield url
    elif kind == "mariadb":
        with mariadb(data) as url:
            yield url
    elif kind == "sqlite":
        with sqlite(work, data) as url:
            yield url
    else:
        with duck(work, data) as url:
            yield url


def median(runs: list[Run]) -> Run:
    return Run(
        statistics.median(r.seconds for r in runs),
        max(r.peak_rss_mb for r in runs),
        statistics.median(r.cpu_seconds for r in runs),
    )


TARGET_CSV = {"postgresql": 1.25, "sqlite": 1.25, "duckdb": 1.25, "mariadb": 1.5}


def bench_engine(kind: str, work: Path, data: Path, repeat: int) -> None:
    with engine_table(kind, work, data) as url:
        config = write_config(work, url)
        out = work / "out"

        def best(make: object) -> Run:
            runs = [make() for _ in range(repeat)]  # type: ignore[operator]
            for leftover in work.glob("out*"):
                leftover.unlink()
            return median(runs)

        dump = best(lambda: engine_dump(kind, url, out))
        csv = best(lambda: reportd_export(config, "csv", out.with_suffix(".csv")))
        bare = best(lambda: bare_parquet(kind, url, out.with_suffix(".parquet")))
        parquet = best(lambda: reportd_export(config, "parquet", out.with_suffix(".parquet")))
    csv_ratio, pq_ratio = csv.seconds / dump.seconds, parquet.seconds / bare.seconds
    print(
        f"{kind:<10} {dump.seconds:>7.2f} {dump.peak_rss_mb:>6.0f}   {csv.seconds:>7.2f} "
        f"{csv.peak_rss_mb:>6.0f} {csv_ratio:>6.2f} {_verdict(csv_ratio <= TARGET_CSV[kind])}   "
        f"{bare.seconds:>7.2f} {bare.peak_rss_mb:>6.0f}   {parquet.seconds:>7.2f} "
        f"{parquet.peak_rss_mb:>6.0f} {pq_ratio:>6.2f} {_verdict(pq_ratio <= 1.25)}",
        flush=True,
    )


def _verdict(ok: bool) -> str:
    return "ok " if ok else "OVER"


def bench_startup() -> None:
    def measure(command: list[str]) -> Run:
        return median([timed(command, env=clean_env()) for _ in range(10)])

    base = measure([PY, "-c", "pass"])
    print(f"\n{'start-up (median of 10)':<28} {'seconds':>8} {'cpu s':>8} {'peak MB':>8}")
    print(
        f"{'python -c pass':<28} {base.seconds:>8.3f} {base.cpu_seconds:>8.3f} "
        f"{base.peak_rss_mb:>8.0f}"
    )
    for args in (["--help"], ["export", "--help"]):
        run = measure([REPORTD, *args])
        ok = run.seconds <= 0.15 and run.peak_rss_mb <= 60
        label = "reportd " + " ".join(args)
        print(
            f"{label:<28} {run.seconds:>8.3f} {run.cpu_seconds:>8.3f} "
            f"{run.peak_rss_mb:>8.0f}  {_verdict(ok)}"
        )


def bench_memory(work: Path, engines: list[str]) -> None:
    print("\npeak RSS MB of reportd export (target < 250, flat)")
    print(f"{'engine':<10} {'rows':>11} {'csv MB':>7} {'csv s':>7} {'parquet MB':>10} "
          f"{'parquet s':>9}")  # fmt: skip
    for rows in (1_000_000, 10_000_000):
        data = work / "rows.csv"
        build_csv(data, rows)
        for kind in engines:
            with engine_table(kind, work, data) as url:
                config = write_config(work, url)
                csv = reportd_export(config, "csv", work / "out.csv")
                parquet = reportd_export(config, "parquet", work / "out.parquet")
                for leftover in work.glob("out*"):
                    leftover.unlink()
            print(f"{kind:<10} {rows:>11,} {csv.peak_rss_mb:>7.0f} {csv.seconds:>7.1f} "
                  f"{parquet.peak_rss_mb:>10.0f} {parquet.seconds:>9.1f}", flush=True)  # fmt: skip
        data.unlink()


def bench_worker(work: Path, engines: list[str], rows: int) -> None:
    """Peak RSS of one ``reportd worker`` (two slots) while two exports run at once."""
    import httpx

    data = work / "rows.csv"
    build_csv(data, rows)
    print(f"\npeak RSS MB of a worker process running two {rows:,}-row reports at once")
    for kind in engines:
        with engine_table(kind, work, data) as url:
            config = write_config(work, url)
            with config.open("a") as handle:
                handle.write(f'\n[database]\nurl = "sqlite:///{work / "meta.db"}"\n')
            key = admin_key(config)
            port = free_port()
            serve_cmd = [REPORTD, "serve", "--config", str(config), "--host", "127.0.0.1",
                         "--port", str(port), "--no-worker"]  # fmt: skip
            api_child = Child.start(serve_cmd, work / "serve.log")
            worker = Child.start(
                [REPORTD, "worker", "--config", str(config), "--concurrency", "2"],
                work / "worker.log",
            )
            try:
                wait_http(f"http://127.0.0.1:{port}/healthz", api_child)
                headers = {"Authorization": f"Bearer {key}"}
                with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers) as api:
                    made = [
                        api.post("/v1/reports", json={"template_id": "bench", "formats": [fmt]})
                        for fmt in ("csv", "parquet")
                    ]
                    for response in made:
                        response.raise_for_status()
                        wait_finished(api, response.json()["id"], timeout=1800)
                print(f"{kind:<10} worker {worker.peak_rss_mb():>6.0f} MB  (CSV and Parquet)")
            finally:
                worker.stop()
                api_child.stop()
                (work / "meta.db").unlink(missing_ok=True)
    data.unlink()


def compile_reportd() -> None:
    """Byte-compile reportd's own modules once, as an installed wheel has them.

    An editable install under ``PYTHONDONTWRITEBYTECODE=1`` (this machine's shells set it)
    compiles every reportd module again on each start, ~0.1-0.15 s of CPU per export that a
    real install and the bare loop (its packages come compiled) never pay.
    """
    import reportd

    package = str(Path(reportd.__file__).parent)
    subprocess.run([PY, "-m", "compileall", "-q", package], check=True, stdout=subprocess.DEVNULL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument(
        "--engines", nargs="+", default=["postgresql", "mariadb", "sqlite", "duckdb"]
    )
    parser.add_argument("--memory", action="store_true", help="peak RSS at 1M and 10M rows")
    parser.add_argument("--worker", action="store_true", help="a worker's RSS, two reports")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="reportd-bench-sources-"))
    print(f"# {conditions()}", flush=True)
    compile_reportd()
    try:
        if args.memory:
            bench_memory(work, args.engines)
            return
        if args.worker:
            bench_worker(work, args.engines, args.rows)
            return
        data = work / "rows.csv"
        build_csv(data, args.rows)
        print(f"\n{args.rows:,} rows x 8 columns; seconds are whole processes; MB = peak RSS")
        print(f"{'engine':<10} {'dump s':>7} {'MB':>6}   {'csv s':>7} {'MB':>6} {'ratio':>6}      "
              f"{'bare pq':>7} {'MB':>6}   {'pq s':>7} {'MB':>6} {'ratio':>6}")  # fmt: skip
        for kind in args.engines:
            bench_engine(kind, work, data, args.repeat)
        bench_startup()
        print(f"# load at the end: {os.getloadavg()[0]:.2f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
