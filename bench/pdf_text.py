"""The PDF writer's cost of display formats, totals and right-to-left shaping, side by side.

Each case writes the same --rows rows x 8 columns (ints, money, dates, datetimes, short
texts) to a PDF in a fresh child process, --repeat times, interleaved:

- ``plain``: no display formats, no totals (the writer as it was);
- ``formatted``: currency, percent, date and datetime formats and three totals;
- ``rtl``: plain, with every tenth customer an Arabic or Hebrew name (shaped by HarfBuzz);
- ``rtl_all``: plain, every customer Arabic or Hebrew.

    .venv/bin/python bench/pdf_text.py --rows 10000
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

CASES = ("plain", "formatted", "rtl", "rtl_all")
LATIN = ("Contoso Ltd", "Café Olé SARL", "Northwind Traders", "Müller & Söhne GmbH")
RTL = ("شركة الأمل للتجارة", "חברת השלום בע״מ")


def template(case: str) -> Any:
    from reportd.adapters.template_files import parse_template

    money = {"currency": "EUR"} if case == "formatted" else None
    fields: list[dict[str, Any]] = [
        {"name": "id", "type": "integer", "label": "Invoice"},
        {"name": "customer", "type": "string", "label": "Customer"},
        {"name": "amount", "type": "number", "label": "Amount", "format": money},
        {"name": "tax", "type": "number", "label": "Tax", "format": money},
        {"name": "share", "type": "number", "label": "Share"},
        {"name": "issued", "type": "date", "label": "Issued"},
        {"name": "paid_at", "type": "datetime", "label": "Paid at"},
        {"name": "status", "type": "string", "label": "Status"},
    ]
    if case == "formatted":
        fields[4]["format"] = {"percent": 1}
        fields[5]["format"] = {"date": "d MMM yyyy"}
        fields[6]["format"] = {"datetime": "dd.MM.yyyy HH:mm", "timezone": "Europe/Berlin"}
    data: dict[str, Any] = {"id": "b", "name": "Bench", "source": "s", "query": "q"}
    data["fields"] = [{k: v for k, v in f.items() if v is not None} for f in fields]
    if case == "formatted":
        data["totals"] = {"id": "count", "amount": "sum", "share": "avg"}
    return parse_template(data, "bench.yaml")


def batch(case: str, rows: int, schema: Any) -> Any:
    import pyarrow as pa

    every = {"rtl": 10, "rtl_all": 1}.get(case)
    names = [RTL[i % 2] if every and i % every == 0 else LATIN[i % len(LATIN)] for i in range(rows)]
    start = datetime(2024, 1, 1)
    return pa.record_batch(
        [
            pa.array(range(rows), pa.int64()),
            pa.array(names),
            pa.array([i * 1.37 % 10_000 for i in range(rows)], pa.float64()),
            pa.array([i * 0.21 % 900 for i in range(rows)], pa.float64()),
            pa.array([(i % 97) / 97 for i in range(rows)], pa.float64()),
            pa.array([date(2024, 1, 1) + timedelta(days=i % 365) for i in range(rows)]),
            pa.array([start + timedelta(minutes=7 * i) for i in range(rows)], pa.timestamp("us")),
            pa.array([("paid", "open", "overdue")[i % 3] for i in range(rows)]),
        ],
        schema=schema,
    )


def child(case: str, rows: int, out: Path) -> None:
    import pyarrow  # noqa: F401

    from reportd.generation.formats.base import WriteContext
    from reportd.generation.formats.pdf import PdfWriter
    from reportd.generation.formats.schema import canonical_schema

    tmpl = template(case)
    schema = canonical_schema(tmpl.fields)
    data = batch(case, rows, schema)
    context = WriteContext(template=tmpl, fields=tmpl.fields)
    begin, cpu = time.perf_counter(), time.process_time()
    with PdfWriter(out, schema, context) as writer:
        for offset in range(0, rows, 512):  # the pipeline's step for PDF
            writer.write(data.slice(offset, 512))
    seconds, cpu = time.perf_counter() - begin, time.process_time() - cpu
    print(json.dumps({"seconds": seconds, "cpu": cpu, "bytes": out.stat().st_size}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.rows, args.out)
        return
    cases = args.cases.split(",")
    results: dict[str, list[dict[str, float]]] = {case: [] for case in cases}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.repeat):
            for case in cases:
                out = Path(tmp) / f"{case}.pdf"
                command = [sys.executable, __file__, "--child", case, f"--rows={args.rows}"]
                done = subprocess.run(
                    [*command, f"--out={out}"], capture_output=True, text=True, check=True
                )
                results[case].append(json.loads(done.stdout))
    # CPU seconds of the writing alone: on a shared machine wall time mostly measures the
    # neighbours; the ratio is taken on CPU time.
    base = statistics.median(r["cpu"] for r in results.get("plain", results[cases[0]]))
    print(f"{args.rows:,} rows x 8 columns, {args.repeat} runs each")
    print(f"{'case':<10} {'cpu s':>7} {'ratio':>6} {'wall s':>7} {'MB':>6}  cpu per run")
    for case, runs in results.items():
        cpu = statistics.median(r["cpu"] for r in runs)
        wall = statistics.median(r["seconds"] for r in runs)
        all_runs = " ".join(f"{r['cpu']:.2f}" for r in runs)
        size = runs[0]["bytes"] / 1e6
        print(f"{case:<10} {cpu:7.2f} {cpu / base:5.2f}x {wall:7.2f} {size:6.2f}  {all_runs}")


if __name__ == "__main__":
    main()
