"""reportd's writers against DuckDB's own ``COPY ... TO`` and xlsxwriter, side by side in one run.

Builds (once, cached in --dir) a DuckDB table of --rows rows x 8 columns (ints, floats with
some NULLs, short strings, timestamps, booleans), then times, each in a fresh child process
with the same DuckDB threads and memory_limit:

- DuckDB ``COPY (q) TO 'x.csv' (HEADER)``, ``COPY (q) TO 'x.json' (FORMAT JSON)`` and
  ``COPY (q) TO 'x.parquet' (FORMAT PARQUET, COMPRESSION zstd)``;
- ``con.sql(q).to_arrow_reader(batch_size)`` batches conformed and fed through reportd's CSV,
  NDJSON and Parquet writers (and the JSON-array writer, for information);
- XLSX on the first --xlsx-rows rows (1M by default: Excel's own scale): reportd's writer
  against xlsxwriter's ``constant_memory`` mode fed the same batches row by row (the usual
  Python way), with a bold frozen header, an autofilter and typed cells on both sides.

Peak RSS is the child's own maxrss from ``os.wait4``: the same rusage that
``getrusage(RUSAGE_CHILDREN)`` reports, but per child, where RUSAGE_CHILDREN keeps the maximum
over every child waited for so far and so could not tell the sides apart.

    .venv/bin/python bench/export_formats.py --rows 1000000
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from reportd.domain.formats import FieldType

QUERY = "SELECT * FROM t"
TARGETS = {
    "csv": ("duckdb_csv", 1.25),
    "ndjson": ("duckdb_json", 1.5),
    "json": ("duckdb_json", 0),
    "parquet": ("duckdb_parquet", 1.5),
}
# XLSX is held to a speed-up instead: at least this many times faster than xlsxwriter.
XLSX_SPEEDUP = 3.0
CASES = (
    "duckdb_csv",
    "reportd_csv",
    "duckdb_json",
    "reportd_ndjson",
    "reportd_json",
    "duckdb_parquet",
    "reportd_parquet",
    "xlsxwriter_xlsx",
    "reportd_xlsx",
)
COPY_OPTIONS = {
    "csv": "HEADER",
    "json": "FORMAT JSON",
    "parquet": "FORMAT PARQUET, COMPRESSION zstd",
}

TABLE_SQL = """
CREATE TABLE t AS SELECT
    i::BIGINT AS id,
    'cust_' || (i % 9973)::VARCHAR AS customer,
    CASE WHEN i % 10 = 0 THEN NULL ELSE round((i * 7919 % 100000) / 100.0, 2) END::DOUBLE
        AS amount,
    (i % 1000)::INTEGER AS qty,
    TIMESTAMP '2024-01-01' + to_seconds(i * 37 % 31536000) AS created_at,
    (i % 3 = 0) AS paid,
    ((i * 31) % 1000) / 7.0 AS ratio,
    CASE i % 4 WHEN 0 THEN 'north' WHEN 1 THEN 'south' WHEN 2 THEN 'east' ELSE 'west' END
        AS region
FROM range({rows}) r(i)
"""


def connect(args: argparse.Namespace, read_only: bool = True) -> Any:
    import duckdb

    con = duckdb.connect(str(args.db), read_only=read_only)
    con.execute(f"SET threads = {int(args.threads)}")
    con.execute(f"SET memory_limit = '{args.memory_limit}'")
    con.execute("SET preserve_insertion_order = true")
    return con


def build(args: argparse.Namespace) -> None:
    if args.db.exists():
        return
    tmp = args.db.with_suffix(".building")
    tmp.unlink(missing_ok=True)
    con = connect(argparse.Namespace(**{**vars(args), "db": tmp}), read_only=False)
    con.execute(TABLE_SQL.format(rows=int(args.rows)))
    con.close()
    tmp.rename(args.db)


def query(args: argparse.Namespace, fmt: str) -> str:
    return f"{QUERY} LIMIT {int(args.xlsx_rows)}" if fmt == "xlsx" else QUERY


def run_duckdb(args: argparse.Namespace, fmt: str, out: Path) -> None:
    con = connect(args)
    con.execute(f"COPY ({query(args, fmt)}) TO '{out}' ({COPY_OPTIONS[fmt]})")


def run_reportd(args: argparse.Namespace, fmt: str, out: Path) -> None:
    from reportd.domain.formats import Format
    from reportd.generation.formats.registry import open_writer
    from reportd.generation.formats.schema import conform

    reader, schema, context = _open_source(args, fmt)
    with open_writer(Format(fmt), out, schema, context) as writer:
        for batch in reader:
            writer.write(conform(batch, schema))


def _open_source(args: argparse.Namespace, fmt: str) -> tuple[Any, Any, Any]:
    from reportd.domain.formats import Format
    from reportd.domain.models import Field, Template
    from reportd.generation.formats.base import WriteContext
    from reportd.generation.formats.schema import canonical_schema

    con = connect(args)
    reader = con.sql(query(args, fmt)).to_arrow_reader(args.batch_size)
    fields = tuple(Field(f.name, _field_type(f.type)) for f in reader.schema)
    template = Template("bench", "bench", "bench", QUERY, fields, tuple(Format))
    schema = canonical_schema(fields, reader.schema)
    return reader, schema, WriteContext(template=template, fields=fields)


def run_xlsxwriter(args: argparse.Namespace, fmt: str, out: Path) -> None:
    """The baseline: xlsxwriter constant_memory, one ``write_row`` per row (typed cells)."""
    import xlsxwriter

    from reportd.generation.formats.schema import conform

    reader, schema, _ = _open_source(args, fmt)
    book = xlsxwriter.Workbook(
        str(out), {"constant_memory": True, "default_date_format": "yyyy-mm-dd hh:mm:ss"}
    )
    sheet = book.add_worksheet("Sheet 1")
    sheet.freeze_panes(1, 0)
    sheet.write_row(0, 0, schema.names, book.add_format({"bold": True}))
    row = 1
    for batch in reader:
        columns = [column.to_pylist() for column in conform(batch, schema).columns]
        for values in zip(*columns, strict=True):
            sheet.write_row(row, 0, values)
            row += 1
    sheet.autofilter(0, 0, row - 1, len(schema) - 1)
    book.close()


def _field_type(arrow_type: object) -> FieldType:
    import pyarrow as pa

    from reportd.domain.formats import FieldType

    for check, field_type in (
        (pa.types.is_boolean, FieldType.BOOLEAN),
        (pa.types.is_integer, FieldType.INTEGER),
        (pa.types.is_floating, FieldType.NUMBER),
        (pa.types.is_timestamp, FieldType.DATETIME),
        (pa.types.is_date, FieldType.DATE),
    ):
        if check(arrow_type):
            return field_type
    return FieldType.STRING


def child(args: argparse.Namespace) -> None:
    engine, fmt = args.child.split("_", 1)
    out = args.dir / f"{args.child}.{fmt}"
    _import_everything()  # a worker pays imports once at start-up, not per report
    start = time.perf_counter()
    {"duckdb": run_duckdb, "xlsxwriter": run_xlsxwriter, "reportd": run_reportd}[engine](
        args, fmt, out
    )
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "bytes": out.stat().st_size}))
    if not args.keep:
        out.unlink()


def _import_everything() -> None:
    import duckdb  # noqa: F401
    import pyarrow.compute  # noqa: F401
    import xlsxwriter  # noqa: F401

    import reportd.generation.formats.registry
    from reportd.domain.formats import Format

    for fmt in reportd.generation.formats.registry.available_formats():
        reportd.generation.formats.registry.writer_class(Format(fmt))


def measure(args: argparse.Namespace, case: str) -> dict[str, float]:
    command = [sys.executable, __file__, "--child", case, *_forward(args)]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    output = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{case} failed with exit code {proc.returncode}")
    result: dict[str, float] = json.loads(output)
    result["rss_mb"] = usage.ru_maxrss / 1024  # Linux reports KiB
    result["cpu"] = usage.ru_utime + usage.ru_stime  # includes start-up and imports
    return result


def _forward(args: argparse.Namespace) -> list[str]:
    return [
        f"--rows={args.rows}",
        f"--dir={args.dir}",
        f"--threads={args.threads}",
        f"--memory-limit={args.memory_limit}",
        f"--batch-size={args.batch_size}",
        f"--xlsx-rows={args.xlsx_rows}",
    ]


def report(results: dict[str, list[dict[str, float]]], args: argparse.Namespace) -> None:
    """Medians (and minimums: the least disturbed run on a shared machine) and ratios."""
    med = {case: statistics.median(r["seconds"] for r in runs) for case, runs in results.items()}
    low = {case: min(r["seconds"] for r in runs) for case, runs in results.items()}
    print(
        f"\n{args.rows:,} rows x 8 columns; DuckDB threads={args.threads} "
        f"memory_limit={args.memory_limit}; {args.repeat} runs; batch {args.batch_size}"
    )
    print(f"{'case':<16}{'median s':>9}{'min s':>8}{'cpu s':>8}{'RSS MB':>8}{'file MB':>9}  runs")
    for case, runs in results.items():
        cpu = statistics.median(r["cpu"] for r in runs)
        rss = max(r["rss_mb"] for r in runs)
        size = runs[0]["bytes"] / 1e6
        all_runs = " ".join(f"{r['seconds']:.2f}" for r in runs)
        print(
            f"{case:<16}{med[case]:>9.2f}{low[case]:>8.2f}{cpu:>8.2f}{rss:>8.0f}{size:>9.1f}"
            f"  {all_runs}"
        )
    for fmt, (baseline, target) in TARGETS.items():
        if f"reportd_{fmt}" not in med or baseline not in med:
            continue
        ratio = med[f"reportd_{fmt}"] / med[baseline]
        best = low[f"reportd_{fmt}"] / low[baseline]
        verdict = (
            f"(target <= {target}x: {'ok' if ratio <= target else 'MISSED'})" if target else ""
        )
        print(f"reportd {fmt} / {baseline}: {ratio:.2f}x median, {best:.2f}x min {verdict}")
    if "reportd_xlsx" in med and "xlsxwriter_xlsx" in med:
        speedup = med["xlsxwriter_xlsx"] / med["reportd_xlsx"]
        best = low["xlsxwriter_xlsx"] / low["reportd_xlsx"]
        verdict = "ok" if speedup >= XLSX_SPEEDUP else "MISSED"
        print(
            f"reportd xlsx ({args.xlsx_rows:,} rows) is {speedup:.2f}x faster than xlsxwriter "
            f"constant_memory median, {best:.2f}x min (target >= {XLSX_SPEEDUP}x: {verdict})"
        )


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/reportd-bench"))
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--memory-limit", default="1GB")
    parser.add_argument("--batch-size", type=int, default=65_536)
    parser.add_argument("--xlsx-rows", type=int, default=1_000_000)
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--no-verify", dest="verify", action="store_false")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--keep", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.db = args.dir / f"bench-{args.rows}.duckdb"
    return args


def main() -> None:
    args = parse()
    if args.child:
        child(args)
        return
    args.dir.mkdir(parents=True, exist_ok=True)
    build(args)
    cases = args.cases.split(",")
    results: dict[str, list[dict[str, float]]] = {case: [] for case in cases}
    for _ in range(args.repeat):
        for case in cases:  # interleaved, so drift in the machine hits every side alike
            results[case].append(measure(args, case))
    report(results, args)
    if args.verify:
        verify(args, cases)


VERIFY_CASES = {
    "csv": ("duckdb_csv", "reportd_csv"),
    "ndjson": ("reportd_ndjson",),
    "parquet": ("reportd_parquet",),
}


def verify(args: argparse.Namespace, cases: list[str]) -> None:
    """reportd's CSV, NDJSON and Parquet hold exactly DuckDB's values (as multisets of rows)."""
    checked = {fmt: run for fmt, run in VERIFY_CASES.items() if f"reportd_{fmt}" in cases}
    for case in (case for run in checked.values() for case in run):
        subprocess.run(
            [sys.executable, __file__, "--child", case, "--keep", *_forward(args)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    con = connect(args)
    for fmt in checked:
        left, right = _verify_queries(args.dir)[fmt]
        diff = [_count(con, f"{a} EXCEPT ALL {b}") for a, b in ((left, right), (right, left))]
        print(f"verify reportd {fmt}: {_count(con, left):,} rows, {sum(diff)} differing")
    for case in (case for run in checked.values() for case in run):
        (args.dir / f"{case}.{case.split('_', 1)[1]}").unlink()


def _verify_queries(folder: Path) -> dict[str, tuple[str, str]]:
    typed = "{'amount': 'DOUBLE', 'ratio': 'DOUBLE', 'created_at': 'TIMESTAMP'}"
    columns = "id, customer, amount, qty::INTEGER, created_at::TIMESTAMP, paid, ratio, region"
    return {
        "csv": (
            f"SELECT * FROM read_csv('{folder}/reportd_csv.csv', types={typed})",
            f"SELECT * FROM read_csv('{folder}/duckdb_csv.csv', types={typed})",
        ),
        "ndjson": (f"SELECT {columns} FROM read_json('{folder}/reportd_ndjson.ndjson')", QUERY),
        "parquet": (
            f"SELECT {columns} FROM read_parquet('{folder}/reportd_parquet.parquet')",
            QUERY,
        ),
    }


def _count(con: Any, query: str) -> int:
    return int(con.sql(f"SELECT count(*) FROM ({query})").fetchall()[0][0])


if __name__ == "__main__":
    main()
